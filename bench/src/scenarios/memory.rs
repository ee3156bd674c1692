//! Memory: resident memory added by idle subscriptions.
//!
//! Each run re-executes this binary with a hidden flag, so every measurement starts from a fresh
//! heap holding one client only. The child connects, reads its `VmRSS`, subscribes `COUNT` times
//! to distinct subjects, flushes, reads `VmRSS` again and prints the difference in KiB.

use std::process::{Command, ExitCode};

use super::{grouped, runner, Ctx, Metric, Scenario};
use crate::client::{BenchClient, BenchError, Ours, Theirs};

/// The hidden flag: `<bench> --memory-child <ours|theirs> <url>`.
pub(crate) const CHILD_FLAG: &str = "--memory-child";

const COUNT: usize = 10_000;

/// The line the child prints its result on.
const RESULT_PREFIX: &str = "rss_added_kib=";

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: format!("memory {} idle subscriptions", grouped(COUNT)),
        note: Some(format!(
            "memory: VmRSS added by {} subscriptions, each client in a child process of its own",
            grouped(COUNT)
        )),
        ours: runner(|ctx| in_child(ctx, "ours")),
        theirs: runner(|ctx| in_child(ctx, "theirs")),
        ceiling: None,
    }]
}

async fn in_child(ctx: Ctx, side: &'static str) -> Result<Vec<Metric>, BenchError> {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(std::env::current_exe()?)
            .args([CHILD_FLAG, side, &ctx.url])
            .output()
    })
    .await??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let kib = stdout
        .lines()
        .find_map(|line| line.strip_prefix(RESULT_PREFIX))
        .and_then(|value| value.trim().parse::<f64>().ok());
    match kib {
        Some(kib) if output.status.success() => Ok(vec![Metric::lower("KiB", kib)]),
        _ => Err(format!(
            "memory child failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into()),
    }
}

/// The child's `main`: measures one client and prints the result line.
pub(crate) fn child_main(runtime: &tokio::runtime::Runtime, side: &str, url: &str) -> ExitCode {
    let measured = match side {
        "ours" => runtime.block_on(measure::<Ours>(url)),
        "theirs" => runtime.block_on(measure::<Theirs>(url)),
        other => Err(format!("unknown side {other}").into()),
    };
    match measured {
        Ok(kib) => {
            println!("{RESULT_PREFIX}{kib}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn measure<C: BenchClient>(url: &str) -> Result<i64, BenchError> {
    let client = C::connect(url, None).await?;
    client.flush().await?;
    let before = vm_rss_kib()?;
    let mut subs = Vec::with_capacity(COUNT);
    for i in 0..COUNT {
        subs.push(client.subscribe(format!("bench.idle.{i}")).await?);
    }
    client.flush().await?;
    let after = vm_rss_kib()?;
    drop(subs);
    Ok(after - before)
}

/// This process's resident memory, from `/proc/self/status`.
fn vm_rss_kib() -> Result<i64, BenchError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS line in /proc/self/status".into())
}
