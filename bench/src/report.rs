//! From runs to rows: statistics, the text table and the JSON lines.

use serde_json::json;

use crate::scenarios::{Better, Metric};

/// What one side's runs of a scenario gave.
#[derive(Debug, Default)]
pub(crate) struct Runs {
    /// One entry per successful run.
    pub(crate) runs: Vec<Vec<Metric>>,
    /// Why a run failed; no further runs of that side are made.
    pub(crate) failure: Option<String>,
}

/// Median, minimum and maximum of one metric over the runs.
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    median: f64,
    min: f64,
    max: f64,
    values: Vec<f64>,
}

impl Stats {
    fn of(values: Vec<f64>) -> Option<Stats> {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Stats {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            values,
        })
    }
}

/// One line of the table: a scenario's metric for both clients.
#[derive(Debug)]
pub(crate) struct Row {
    scenario: String,
    unit: &'static str,
    better: Better,
    ours: Result<Stats, String>,
    theirs: Result<Stats, String>,
    /// The raw-socket ceiling of the row, for the scenarios that have one.
    ceiling: Option<Result<Stats, String>>,
}

impl Row {
    /// Ours over theirs, on medians.
    fn ratio(&self) -> Option<f64> {
        match (&self.ours, &self.theirs) {
            (Ok(ours), Ok(theirs)) if theirs.median != 0.0 => Some(ours.median / theirs.median),
            _ => None,
        }
    }

    /// Against the ceiling, on medians: the fraction of it (throughput) or the microseconds
    /// added to it (latency), for ours and theirs.
    fn against_ceiling(&self) -> Option<(Option<f64>, Option<f64>)> {
        let ceiling = self.ceiling.as_ref()?.as_ref().ok()?.median;
        let compare = |side: &Result<Stats, String>| {
            let value = side.as_ref().ok()?.median;
            match self.better {
                Better::Higher if ceiling != 0.0 => Some(value / ceiling),
                Better::Higher => None,
                Better::Lower => Some(value - ceiling),
            }
        };
        Some((compare(&self.ours), compare(&self.theirs)))
    }

    /// `scenario (unit)`.
    pub(crate) fn label(&self) -> String {
        format!("{} ({})", self.scenario, self.unit)
    }

    /// Whether ours is behind on this row.
    pub(crate) fn ours_loses(&self) -> bool {
        match (self.ratio(), self.better) {
            (Some(r), Better::Higher) => r < 1.0,
            (Some(r), Better::Lower) => r > 1.0,
            _ => self.ours.is_err(),
        }
    }
}

/// One row per metric of `scenario`, in the order its runs report them.
pub(crate) fn rows(scenario: &str, ours: &Runs, theirs: &Runs, ceiling: Option<&Runs>) -> Vec<Row> {
    let first = ours.runs.first().or(theirs.runs.first());
    let Some(first) = first else {
        return vec![Row {
            scenario: scenario.to_owned(),
            unit: "-",
            better: Better::Higher,
            ours: Err(failure(ours)),
            theirs: Err(failure(theirs)),
            ceiling: None,
        }];
    };
    first
        .iter()
        .map(|metric| Row {
            scenario: scenario.to_owned(),
            unit: metric.unit,
            better: metric.better,
            ours: stats(ours, metric.unit),
            theirs: stats(theirs, metric.unit),
            ceiling: ceiling.map(|c| stats(c, metric.unit)),
        })
        .collect()
}

fn stats(side: &Runs, unit: &str) -> Result<Stats, String> {
    let values = side
        .runs
        .iter()
        .filter_map(|run| run.iter().find(|m| m.unit == unit).map(|m| m.value))
        .collect();
    match (&side.failure, Stats::of(values)) {
        (Some(why), _) => Err(why.clone()),
        (None, Some(stats)) => Ok(stats),
        (None, None) => Err("no run".to_owned()),
    }
}

fn failure(side: &Runs) -> String {
    side.failure.clone().unwrap_or_else(|| "no run".to_owned())
}

/// Our median of `unit` in the row of `scenario`, when ours ran.
fn ours_median(rows: &[Row], scenario: &str, unit: &str) -> Option<f64> {
    rows.iter()
        .find(|row| row.scenario == scenario && row.unit == unit)
        .and_then(|row| row.ours.as_ref().ok())
        .map(|stats| stats.median)
}

/// What nats-micro's tower stack costs: our micro echo endpoint against our own raw
/// responder, both with 64 requesters in the same run (`micro / raw`; the target is 0.9 or
/// more). `None` unless both scenarios ran for ours.
pub(crate) fn micro_over_raw(rows: &[Row]) -> Option<(f64, f64)> {
    let raw = ours_median(rows, &crate::scenarios::concurrent_name("request"), "req/s")?;
    let micro = ours_median(
        rows,
        &crate::scenarios::concurrent_name("micro echo"),
        "req/s",
    )?;
    Some((micro, raw))
}

/// The rows as an aligned text table, failures listed below it.
pub(crate) fn table(rows: &[Row]) -> String {
    let header = [
        "scenario",
        "unit",
        "better",
        "ours med",
        "ours min",
        "ours max",
        "async-nats med",
        "their min",
        "their max",
        "ours/theirs",
        "ceiling med",
        "ours vs ceiling",
        "theirs vs ceiling",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    let mut failures = Vec::new();
    for row in rows {
        let mut cells = vec![
            row.scenario.clone(),
            row.unit.to_owned(),
            match row.better {
                Better::Higher => "higher".to_owned(),
                Better::Lower => "lower".to_owned(),
            },
        ];
        for (side, result) in [("ours", &row.ours), ("async-nats", &row.theirs)] {
            match result {
                Ok(s) => cells.extend([number(s.median), number(s.min), number(s.max)]),
                Err(why) => {
                    cells.extend(["FAILED".to_owned(), "-".to_owned(), "-".to_owned()]);
                    failures.push(format!("{} ({side}): {why}", row.scenario));
                }
            }
        }
        cells.push(
            row.ratio()
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}")),
        );
        cells.extend(ceiling_cells(row, &mut failures));
        lines.push(cells);
    }
    failures.dedup();

    let widths: Vec<usize> = (0..header.len())
        .map(|col| lines.iter().map(|l| l[col].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, cells) in lines.iter().enumerate() {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(col, (cell, w))| {
                if col < 3 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    for failure in failures {
        out.push_str(&format!("FAILED {failure}\n"));
    }
    out
}

/// The ceiling's median and how ours and theirs compare with it: `0.91` of it for throughput,
/// `+37 us` over it for latency; dashes for rows without a ceiling.
fn ceiling_cells(row: &Row, failures: &mut Vec<String>) -> [String; 3] {
    let dash = || "-".to_owned();
    match &row.ceiling {
        None => [dash(), dash(), dash()],
        Some(Err(why)) => {
            failures.push(format!("{} (ceiling): {why}", row.scenario));
            ["FAILED".to_owned(), dash(), dash()]
        }
        Some(Ok(ceiling)) => {
            let (ours, theirs) = row.against_ceiling().unwrap_or((None, None));
            let show = |value: Option<f64>| match (value, row.better) {
                (None, _) => dash(),
                (Some(v), Better::Higher) => format!("{v:.2}"),
                (Some(v), Better::Lower) => over(v, row.unit),
            };
            [number(ceiling.median), show(ours), show(theirs)]
        }
    }
}

/// How far above the ceiling a 'lower' row is, in the row's unit: `+37 us` for latency,
/// `+0.012 seconds` or `+2.50 MiB` for the others (whose difference is not microseconds).
fn over(value: f64, unit: &str) -> String {
    let short = unit.rsplit(' ').next().unwrap_or(unit);
    match short {
        "us" => format!("{value:+.0} us"),
        "seconds" => format!("{value:+.3} seconds"),
        _ => format!("{value:+.2} {short}"),
    }
}

/// The rows as JSON lines, one object per row, then the micro/raw comparison when it ran.
pub(crate) fn json_lines(rows: &[Row]) -> String {
    let derived = micro_over_raw(rows).map(|(micro, raw)| {
        json!({
            "comparison": "nats-micro echo vs our raw responder, 64 tasks",
            "unit": "req/s",
            "micro": micro,
            "raw": raw,
            "ratio": micro / raw,
        })
        .to_string()
            + "\n"
    });
    let side = |result: &Result<Stats, String>| match result {
        Ok(s) => json!({"median": s.median, "min": s.min, "max": s.max, "runs": s.values}),
        Err(why) => json!({"error": why}),
    };
    rows.iter()
        .map(|row| {
            let mut line = json!({
                "scenario": row.scenario,
                "unit": row.unit,
                "better": match row.better { Better::Higher => "higher", Better::Lower => "lower" },
                "ours": side(&row.ours),
                "async_nats": side(&row.theirs),
                "ratio": row.ratio(),
            });
            if let Some(ceiling) = &row.ceiling {
                line["ceiling"] = side(ceiling);
                let (ours, theirs) = row.against_ceiling().unwrap_or((None, None));
                let (ours_key, theirs_key) = match row.better {
                    Better::Higher => {
                        ("ours_fraction_of_ceiling", "async_nats_fraction_of_ceiling")
                    }
                    Better::Lower => ("ours_over_ceiling_us", "async_nats_over_ceiling_us"),
                };
                line[ours_key] = json!(ours);
                line[theirs_key] = json!(theirs);
            }
            line.to_string() + "\n"
        })
        .chain(derived)
        .collect()
}

/// A value with three significant figures at least, thousands grouped.
fn number(value: f64) -> String {
    if value >= 1000.0 {
        crate::scenarios::grouped(value.round() as usize)
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_ceiling_in_the_rows_unit() {
        assert_eq!(over(37.4, "p50 us"), "+37 us");
        assert_eq!(over(0.0123, "seconds"), "+0.012 seconds");
        assert_eq!(over(2.5, "peak RSS MiB"), "+2.50 MiB");
    }
}
