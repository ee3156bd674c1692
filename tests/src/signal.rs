//! Signalling a server process with the system's `kill` command and with
//! `nats-server --signal`, so the harness needs no `libc`.

use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use crate::binary::nats_server_bin;

/// A POSIX signal sent with `kill -NAME <pid>`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signal {
    /// `SIGSTOP`: freezes the process; it cannot be caught.
    Stop,
    /// `SIGCONT`: lets a stopped process run again.
    Cont,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Self::Stop => "STOP",
            Self::Cont => "CONT",
        }
    }
}

/// Sends `signal` to the process `pid` with `kill -NAME pid`.
///
/// # Errors
///
/// Describes why `kill` could not run or what it reported.
pub(crate) fn send(pid: u32, signal: Signal) -> Result<(), String> {
    let name = signal.name();
    let output = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .output()
        .map_err(|err| format!("cannot run `kill -{name} {pid}`: {err}"))?;
    check(&format!("kill -{name} {pid}"), &output)
}

/// Waits until every thread of process `pid` has stopped after `SIGSTOP`.
///
/// `kill` returns once the signal is queued, while threads running on other
/// CPUs stop a moment later; until then the server may still, say, greet a
/// new connection. On Linux the thread states in `/proc/PID/task/*/stat` tell
/// when all have stopped; elsewhere this just sleeps briefly.
///
/// # Errors
///
/// Says which threads still ran after `timeout`.
pub(crate) fn wait_stopped(pid: u32, timeout: Duration) -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        thread::sleep(Duration::from_millis(50));
        return Ok(());
    }
    let deadline = Instant::now() + timeout;
    loop {
        let running = running_threads(pid);
        if running.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "threads {running:?} of process {pid} still run {timeout:?} after SIGSTOP"
            ));
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// The ids of the threads of `pid` that are not stopped, from `/proc`; empty
/// if the process is gone.
fn running_threads(pid: u32) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            // `PID (COMM) STATE ...`: the state follows the last `)`, since
            // COMM may itself contain one; `T` is stopped, `t` traced.
            std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|stat| {
                    let (_, rest) = stat.rsplit_once(')')?;
                    rest.trim_start().chars().next()
                })
                .is_some_and(|state| !matches!(state, 'T' | 't' | 'Z' | 'X'))
        })
        .map(|task| task.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs `nats-server --signal ldm=<pid>`, which puts that server into lame duck
/// mode, and waits for the command to finish.
///
/// # Errors
///
/// Describes why the command could not run or what it reported.
pub(crate) fn lame_duck(pid: u32) -> Result<(), String> {
    let bin = nats_server_bin();
    let what = format!("{} --signal ldm={pid}", bin.display());
    let output = Command::new(&bin)
        .arg("--signal")
        .arg(format!("ldm={pid}"))
        .output()
        .map_err(|err| format!("cannot run `{what}`: {err}"))?;
    check(&what, &output)
}

/// Turns a failed exit status into an error naming the command and its output.
fn check(what: &str, output: &Output) -> Result<(), String> {
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{what}` failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}
