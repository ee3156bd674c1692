//! How results are shown: tables (comfy-table) for people, JSON for scripts.

use std::io::Write;

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{CellAlignment, ContentArrangement, Table};
use serde::Serialize;

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
    let mut table = Table::new();
    table.load_preset(NOTHING);
    for (name, value) in rows {
        table.add_row(vec![format!("{name}:"), value]);
    }
    align_right(&mut table, &[0]);
    for (index, padding) in [(0, (0, 0)), (1, (1, 0))] {
        if let Some(column) = table.column_mut(index) {
            column.set_padding(padding);
        }
    }
    // Without borders, the padding of the last column is trailing spaces.
    let lines: Vec<String> = table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect();
    lines.join("\n")
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
