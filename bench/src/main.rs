//! Side-by-side benchmark of nats-core ("ours") against async-nats ("theirs").
//!
//! Starts one nats-server for the whole run, runs every scenario for both clients alternately
//! (ours, theirs, ours, theirs, ...) and prints a table of median, minimum and maximum per
//! client with the ratio of the medians. Run it with `./scripts/bench.sh [ARGS]`.

use std::process::ExitCode;
use std::time::Duration;

use nats_tests::NatsServer;

mod client;
mod raw;
mod raw_jetstream;
mod report;
mod scenarios;

use report::Runs;
use scenarios::{Ctx, Runner, Scenario};

/// A run that takes longer than this is a hang: it fails and the bench moves on.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

const USAGE: &str = "\
usage: nats-bench [--only SUBSTRING]... [--runs N] [--side ours|async-nats] [--json]
                  [--default-limits] [--list]

  --only SUBSTRING   run the scenarios whose name contains SUBSTRING (repeatable)
  --runs N           runs per client and scenario (default 3)
  --side SIDE        run one client only (for profiling): ours or async-nats
  --json             print JSON lines, one object per row, instead of the table
  --default-limits   keep both libraries' default subscription limits in pub+sub
  --list             print the scenario names and exit
";

#[derive(Debug)]
struct Args {
    only: Vec<String>,
    runs: usize,
    json: bool,
    default_limits: bool,
    list: bool,
    side: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        only: Vec::new(),
        runs: 3,
        json: false,
        default_limits: false,
        list: false,
        side: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => parsed.only.push(args.next().ok_or("--only needs a value")?),
            "--runs" => {
                let value = args.next().ok_or("--runs needs a value")?;
                parsed.runs = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--runs: not a positive number: {value}"))?;
            }
            "--side" => {
                let side = args.next().ok_or("--side needs a value")?;
                if side != "ours" && side != "async-nats" {
                    return Err(format!("--side: ours or async-nats, not {side}"));
                }
                parsed.side = Some(side);
            }
            "--json" => parsed.json = true,
            "--default-limits" => parsed.default_limits = true,
            "--list" => parsed.list = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(parsed)
}

fn runtime() -> tokio::runtime::Runtime {
    // Two workers: the machine has two cores, shared with the server.
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => panic!("cannot start the tokio runtime: {err}"),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some(scenarios::MEMORY_CHILD_FLAG) {
        let rest: Vec<String> = args.skip(1).collect();
        let [side, url] = rest.as_slice() else {
            eprintln!(
                "usage: {} <ours|theirs> <url>",
                scenarios::MEMORY_CHILD_FLAG
            );
            return ExitCode::FAILURE;
        };
        return scenarios::memory_child_main(&runtime(), side, url);
    }
    let args = match parse_args(args) {
        Ok(args) => args,
        Err(err) => {
            if !err.is_empty() {
                eprintln!("nats-bench: {err}");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };

    let selected: Vec<Scenario> = scenarios::all()
        .into_iter()
        .filter(|s| args.only.is_empty() || args.only.iter().any(|o| s.name.contains(o.as_str())))
        .collect();
    if args.list {
        selected.iter().for_each(|s| println!("{}", s.name));
        return ExitCode::SUCCESS;
    }
    if selected.is_empty() {
        eprintln!("nats-bench: no scenario matches {:?}", args.only);
        return ExitCode::from(2);
    }

    // JetStream on (file storage in the server's temporary store) for the JetStream rows.
    let server = NatsServer::spawn_jetstream();
    let ctx = Ctx {
        url: server.url(),
        default_limits: args.default_limits,
    };
    eprintln!(
        "nats-bench: server {} (pid {}), {} run(s) per client, {} scenario(s)",
        ctx.url,
        server.pid(),
        args.runs,
        selected.len()
    );
    let runtime = runtime();
    let mut rows = Vec::new();
    let mut failed = false;
    for scenario in &selected {
        let (ours, theirs, ceiling) = runtime.block_on(run_scenario(scenario, &ctx, &args));
        failed |= ours.failure.is_some() || theirs.failure.is_some();
        rows.extend(report::rows(
            &scenario.name,
            &ours,
            &theirs,
            scenario.ceiling.as_ref().map(|_| &ceiling),
        ));
    }
    drop(runtime);
    drop(server);

    if args.json {
        print!("{}", report::json_lines(&rows));
    } else {
        print_table(&rows, &selected, &args);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn print_table(rows: &[report::Row], selected: &[Scenario], args: &Args) {
    println!(
        "nats-core vs async-nats 0.51, {} run(s) each, alternated; median/min/max per client",
        args.runs
    );
    println!("ratio = ours median / async-nats median: above 1 is better on 'higher' rows,");
    println!("below 1 is better on 'lower' rows (latency, memory: lower is better)");
    println!();
    print!("{}", report::table(rows));
    if let Some((micro, raw)) = report::micro_over_raw(rows) {
        println!();
        println!(
            "tower stack cost: micro echo {} req/s / our raw responder {} req/s = {:.2} \
             (64 tasks, same run; target >= 0.95)",
            scenarios::grouped(micro.round() as usize),
            scenarios::grouped(raw.round() as usize),
            micro / raw
        );
    }
    let notes: Vec<&str> = selected.iter().filter_map(|s| s.note.as_deref()).collect();
    if !notes.is_empty() {
        println!();
        for note in notes {
            let note = if args.default_limits && note.contains("pending limits") {
                "pub+sub: both libraries' default subscription limits (--default-limits)"
            } else {
                note
            };
            println!("note: {note}");
        }
    }
    let losing: Vec<String> = rows
        .iter()
        .filter(|r| r.ours_loses())
        .map(report::Row::label)
        .collect();
    if !losing.is_empty() {
        println!("ours behind on: {}", losing.join(", "));
    }
}

/// Runs one scenario `runs` times per client, alternating ours, theirs and the raw ceiling.
async fn run_scenario(scenario: &Scenario, ctx: &Ctx, args: &Args) -> (Runs, Runs, Runs) {
    let mut ours = Runs::default();
    let mut theirs = Runs::default();
    let mut ceiling = Runs::default();
    let runs = args.runs;
    for run in 1..=runs {
        for (side, runner, results) in [
            ("ours", Some(&scenario.ours), &mut ours),
            ("async-nats", Some(&scenario.theirs), &mut theirs),
            ("ceiling", scenario.ceiling.as_ref(), &mut ceiling),
        ] {
            let Some(runner) = runner else { continue };
            let skipped = args
                .side
                .as_deref()
                .is_some_and(|only| only != side && side != "ceiling");
            if skipped || results.failure.is_some() {
                continue;
            }
            run_once(&scenario.name, side, run, runs, runner, ctx, results).await;
        }
    }
    (ours, theirs, ceiling)
}

async fn run_once(
    name: &str,
    side: &str,
    run: usize,
    runs: usize,
    runner: &Runner,
    ctx: &Ctx,
    results: &mut Runs,
) {
    let outcome = tokio::time::timeout(RUN_TIMEOUT, runner(ctx.clone())).await;
    match outcome {
        Ok(Ok(metrics)) => {
            let shown: Vec<String> = metrics
                .iter()
                .map(|m| format!("{:.1} {}", m.value, m.unit))
                .collect();
            eprintln!("{name} | {side} {run}/{runs}: {}", shown.join(", "));
            results.runs.push(metrics);
        }
        Ok(Err(err)) => {
            eprintln!("{name} | {side} {run}/{runs}: FAILED: {err}");
            results.failure = Some(format!("run {run}: {err}"));
        }
        Err(_) => {
            eprintln!("{name} | {side} {run}/{runs}: HUNG for {RUN_TIMEOUT:?}");
            results.failure = Some(format!("run {run}: no result within {RUN_TIMEOUT:?}"));
        }
    }
}
