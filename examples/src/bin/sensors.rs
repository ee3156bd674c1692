//! A synchronous sensor pipeline, in the style of the documentation's blocking pub/sub
//! backend: a plain `fn main` with no runtime of its own, configured from the environment
//! (`NATS_URL`, `NATS_CREDS`, `NATS_CONTEXT`, ...). A publisher thread sends temperature
//! readings to `sensors.<id>.temperature`; two workers, each a blocking subscriber on a thread
//! of its own, share them in the queue group `sensor-workers`. After `--count` readings
//! (default 20) the workers drain, each says how many it processed, and the program checks
//! that every reading was processed exactly once.
//!
//! Usage: `sensors [--count N] [--sensors N]`

use std::process::ExitCode;

use examples::sensors::{Pipeline, QUEUE_GROUP, SUBJECTS};
use nats_core::ConnectConfig;

const USAGE: &str =
    "usage: sensors [--count N] [--sensors N]   (the server from NATS_URL, NATS_CONTEXT, ...)";

fn main() -> ExitCode {
    let pipeline = match parse_args(std::env::args().skip(1)) {
        Ok(Some(pipeline)) => pipeline,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sensors: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&pipeline) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("sensors: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the pipeline and prints its report; whether every reading was processed once.
fn run(pipeline: &Pipeline) -> Result<bool, examples::sensors::Error> {
    let config = ConnectConfig::from_env()?;
    println!(
        "sensor pipeline: {} readings from {} sensors on {SUBJECTS:?}, {} workers in queue \
         group {QUEUE_GROUP:?}",
        pipeline.readings, pipeline.sensors, pipeline.workers
    );
    let report = pipeline.run(&config)?;
    for worker in &report.workers {
        println!(
            "worker {} processed {} readings",
            worker.worker,
            worker.seqs.len()
        );
    }
    for (sensor, stats) in report.sensors() {
        println!(
            "sensor {sensor}: {} readings, min {:.1} °C, mean {:.1} °C, max {:.1} °C",
            stats.readings,
            stats.min,
            stats.mean(),
            stats.max
        );
    }
    let (duplicates, missing) = (report.duplicates(), report.missing());
    let rejected: u64 = report.workers.iter().map(|w| w.rejected).sum();
    if duplicates.is_empty() && missing.is_empty() && rejected == 0 {
        println!(
            "{} readings published, {} processed, each exactly once",
            report.published,
            report.processed()
        );
        println!("drained and closed");
        return Ok(true);
    }
    println!(
        "{} readings published, {} processed: {} twice or more {duplicates:?}, {} never \
         {missing:?}, {rejected} messages that were not readings",
        report.published,
        report.processed(),
        duplicates.len(),
        missing.len()
    );
    Ok(false)
}

/// The pipeline `--count N` and `--sensors N` ask for (`--count=N` too); `None` for
/// `--help`.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Pipeline>, String> {
    let mut pipeline = Pipeline::new(20);
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a number"))
        };
        let number = |text: String| {
            text.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag}: {text:?} is not a positive number"))
        };
        match flag.as_str() {
            "--count" => pipeline.readings = number(value()?)?,
            "--sensors" => {
                pipeline.sensors = u32::try_from(number(value()?)?)
                    .map_err(|_| format!("{flag}: too many sensors"))?;
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(pipeline))
}
