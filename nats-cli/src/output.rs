//! How results are shown: tables (comfy-table) for people, JSON for scripts; counts, times
//! and ages for people.

use std::io::Write;

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use serde::Serialize;
use time::OffsetDateTime;

use crate::duration;
use crate::error::CliError;

/// A table with a header row, fitted to the terminal when there is one.
pub(crate) fn table<I, S>(headers: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers);
    table
}

/// Right-aligns the columns `columns` of `table` (counts and durations).
pub(crate) fn align_right(table: &mut Table, columns: &[usize]) {
    for &index in columns {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Names and values without borders, the names right-aligned:
///
/// ```text
///     Service: calc
/// Description: a calculator
/// ```
pub(crate) fn fields<'a>(rows: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let mut sections = Sections::new();
    for (name, value) in rows {
        sections.row(name, value);
    }
    sections.render()
}

/// Names and values in titled sections, as the NATS CLI shows a stream or a bucket: the
/// names right-aligned across every section, each section after a blank line and its title.
///
/// ```text
/// Configuration:
///
///          Subjects: orders.>
///          Replicas: 1
///
/// State:
///
///          Messages: 3
/// ```
pub(crate) struct Sections {
    table: Table,
}

impl Sections {
    pub(crate) fn new() -> Self {
        let mut table = Table::new();
        table.load_preset(NOTHING);
        Sections { table }
    }

    /// Starts a section: a blank line (unless it is the first), its title, a blank line.
    pub(crate) fn title(&mut self, title: &str) {
        if !self.table.is_empty() {
            self.table.add_row(vec![String::new(), String::new()]);
        }
        self.table.add_row(vec![
            Cell::new(format!("{title}:")).set_alignment(CellAlignment::Left)
        ]);
        self.table.add_row(vec![String::new(), String::new()]);
    }

    /// A `name: value` row; a value of several lines continues under the first.
    pub(crate) fn row(&mut self, name: &str, value: impl ToString) {
        self.table
            .add_row(vec![format!("{name}:"), value.to_string()]);
    }

    /// A row only when `value` is not empty.
    pub(crate) fn row_if_set(&mut self, name: &str, value: &str) {
        if !value.is_empty() {
            self.row(name, value);
        }
    }

    /// The rows, without trailing spaces.
    pub(crate) fn render(mut self) -> String {
        align_right(&mut self.table, &[0]);
        for (index, padding) in [(0, (0, 0)), (1, (1, 0))] {
            if let Some(column) = self.table.column_mut(index) {
                column.set_padding(padding);
            }
        }
        // Without borders, the padding of the last column is trailing spaces.
        let lines: Vec<String> = self
            .table
            .lines()
            .map(|line| line.trim_end().to_owned())
            .collect();
        lines.join("\n")
    }
}

/// Writes `table` and a newline.
pub(crate) fn print_table(out: &mut impl Write, table: &Table) -> Result<(), CliError> {
    writeln!(out, "{table}")?;
    Ok(())
}

/// Writes `value` as indented JSON and a newline.
pub(crate) fn print_json(out: &mut impl Write, value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// Writes `value` as JSON on one line, for a stream of JSON lines.
pub(crate) fn print_json_line(
    out: &mut impl Write,
    value: &impl Serialize,
) -> Result<(), CliError> {
    let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// `metadata` as `key=value` pairs, one a line; `-` when there is none.
pub(crate) fn metadata<'a>(metadata: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let lines: Vec<String> = metadata
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    if lines.is_empty() {
        "-".to_owned()
    } else {
        lines.join("\n")
    }
}

/// `count` with thousands separators, as the NATS CLI shows counts: `1,234,567`.
pub(crate) fn count(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A time for people, in UTC to the second: `2026-12-01 10:04:05 UTC`.
pub(crate) fn date(time: OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// How long before `now` `time` was: `3m20s`; `never` for the zero times the server
/// reports for what never happened (Go's year 1, or the Unix epoch).
pub(crate) fn ago(now: OffsetDateTime, time: OffsetDateTime) -> String {
    if time <= OffsetDateTime::UNIX_EPOCH {
        return "never".to_owned();
    }
    let elapsed = now - time;
    // A clock a little ahead of the server's is "just now", not a negative time.
    let elapsed = std::time::Duration::try_from(elapsed).unwrap_or_default();
    duration::human(elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn dates_are_utc_to_the_second() {
        let time = OffsetDateTime::from_unix_timestamp(1_764_583_445).expect("a time");
        assert_eq!(date(time), "2025-12-01 10:04:05 UTC");
        let later = time + time::Duration::seconds(200);
        assert_eq!(ago(later, time), "3m20s");
        assert_eq!(ago(time, later), "0s");
        assert_eq!(ago(later, OffsetDateTime::UNIX_EPOCH), "never");
    }

    #[test]
    fn sections_align_names_across_titles() {
        let mut sections = Sections::new();
        sections.title("Configuration");
        sections.row("Subjects", "a.>");
        sections.title("State");
        sections.row("Active Consumers", 0);
        sections.row_if_set("Description", "");
        assert_eq!(
            sections.render(),
            "Configuration:\n\n        Subjects: a.>\n\nState:\n\nActive Consumers: 0"
        );
    }
}
