//! nats-py peers for the interop tests: the workspace's Python (with nats-py) running the
//! scripts in `tests/python/`, as child processes that are killed when dropped.
//!
//! Every wait is bounded: a peer that hangs or dies makes the test fail with its stderr.
//! A missing Python or nats-py is a failure, never a skip: the message says how to install it.

// Each test file is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use std::env;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{self, UnboundedReceiver};

/// Names the Python interpreter explicitly (it must have nats-py installed).
pub(crate) const PYTHON_ENV_VAR: &str = "NATS_PY_PYTHON";

/// How to get a Python with nats-py.
const INSTALL_HINT: &str = "run ./scripts/install-nats-server.sh --with-python-peers \
                            (it installs nats-py 2.16.0 into <workspace>/.venv)";

/// The longest a peer may take to start serving, or to finish its queries.
pub(crate) const PEER_WAIT: Duration = Duration::from_secs(20);

/// The Python interpreter to run peers with: `$NATS_PY_PYTHON`, else `<workspace>/.venv/bin/python`.
///
/// # Panics
/// If it does not exist.
pub(crate) fn python() -> PathBuf {
    let python = env::var_os(PYTHON_ENV_VAR)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"));
    assert!(
        python.exists(),
        "no Python for the nats-py interop tests at {}: {INSTALL_HINT}, or set {PYTHON_ENV_VAR} \
         to a Python that has nats-py",
        python.display()
    );
    python
}

/// A script of `tests/python/`.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// Checks that [`python`] imports `nats.micro`, and returns the installed nats-py version.
///
/// # Panics
/// If it does not, with the install hint.
pub(crate) async fn nats_py_version() -> String {
    let check = "import importlib.metadata, nats.micro; \
                 print(importlib.metadata.version('nats-py'))";
    let mut peer = Peer::spawn("nats-py check", &python(), &["-c", check], false);
    let (status, stdout) = peer.finish(PEER_WAIT).await;
    assert!(
        status.success(),
        "nats-py is not importable by {} ({status}): {INSTALL_HINT}\nstderr:\n{}",
        python().display(),
        peer.stderr()
    );
    stdout.trim().to_owned()
}

/// A Python child process: its stdout lines arrive on a channel, its stderr is kept for
/// failure messages, and it is killed when dropped.
pub(crate) struct Peer {
    what: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Peer {
    /// Runs `python args...`; with `keep_stdin`, its stdin stays open until [`finish`]
    /// (or drop), otherwise it reads end-of-file at once.
    ///
    /// [`finish`]: Self::finish
    fn spawn(what: &str, python: &Path, args: &[&str], keep_stdin: bool) -> Peer {
        let mut child = Command::new(python)
            .args(args)
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(if keep_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{what}: cannot run {}: {e}; {INSTALL_HINT}",
                    python.display()
                )
            });
        let stdin = child.stdin.take();
        let (tx, stdout) = mpsc::unbounded_channel();
        let out = child.stdout.take().expect("piped stdout");
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("piped stderr");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0_u8; 4096];
            loop {
                match err.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push_str(&String::from_utf8_lossy(&buf[..n])),
                }
            }
        });
        Peer {
            what: what.to_owned(),
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// What the process wrote to stderr so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The next stdout line, waiting at most `timeout`.
    ///
    /// # Panics
    /// If none comes in time, or stdout closes first.
    pub(crate) async fn line(&mut self, timeout: Duration) -> String {
        match tokio::time::timeout(timeout, self.stdout.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => {
                let status = self.child.try_wait().ok().flatten();
                panic!(
                    "{}: exited ({status:?}) without the expected output\nstderr:\n{}",
                    self.what,
                    self.stderr()
                )
            }
            Err(_) => panic!(
                "{}: no output within {timeout:?}\nstderr:\n{}",
                self.what,
                self.stderr()
            ),
        }
    }

    /// Closes stdin and waits at most `timeout` for the process to exit; returns its status
    /// and everything it wrote to stdout that was not read yet.
    ///
    /// # Panics
    /// If it does not exit in time (it is killed then).
    pub(crate) async fn finish(&mut self, timeout: Duration) -> (ExitStatus, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    panic!(
                        "{}: still running after {timeout:?}\nstderr:\n{}",
                        self.what,
                        self.stderr()
                    );
                }
                Err(e) => panic!("{}: cannot wait: {e}", self.what),
            }
        };
        // The process is gone: its stdout reaches end-of-file, and the reader thread closes
        // the channel.
        let mut stdout = Vec::new();
        let remaining = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
        let drained = tokio::time::timeout(remaining, async {
            while let Some(line) = self.stdout.recv().await {
                stdout.push(line);
            }
        })
        .await;
        assert!(
            drained.is_ok(),
            "{}: stdout still open after exit",
            self.what
        );
        (status, stdout.join("\n"))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        // Reap it; after a kill this returns at once.
        let _ = self.child.wait();
    }
}

/// A running `py_service.py` (mode `"echo"` or `"bare"`) connected to `url`, and the id it
/// printed with `READY`.
pub(crate) async fn start_py_service(url: &str, mode: &str) -> (Peer, String) {
    let script = script("py_service.py");
    let args = [script.to_str().expect("UTF-8 path"), url, mode];
    let mut peer = Peer::spawn(&format!("py_service.py {mode}"), &python(), &args, true);
    let line = peer.line(PEER_WAIT).await;
    let Some(id) = line.strip_prefix("READY ") else {
        panic!(
            "py_service.py: expected `READY <id>`, got {line:?}\nstderr:\n{}",
            peer.stderr()
        );
    };
    let id = id.trim().to_owned();
    assert!(!id.is_empty(), "py_service.py printed an empty id");
    (peer, id)
}

/// Runs `py_query.py` against the service `name` and returns the JSON object it prints.
pub(crate) async fn run_py_query(
    url: &str,
    name: &str,
    endpoint_subject: &str,
    error_subject: &str,
) -> serde_json::Value {
    let script = script("py_query.py");
    let args = [
        script.to_str().expect("UTF-8 path"),
        url,
        name,
        endpoint_subject,
        error_subject,
    ];
    let mut peer = Peer::spawn("py_query.py", &python(), &args, false);
    let (status, stdout) = peer.finish(PEER_WAIT).await;
    assert!(
        status.success(),
        "py_query.py failed ({status})\nstdout:\n{stdout}\nstderr:\n{}",
        peer.stderr()
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "py_query.py printed no JSON object ({e}):\n{stdout}\nstderr:\n{}",
            peer.stderr()
        )
    })
}

/// Runs `py_jetstream.py url command args...` and returns the JSON object it prints.
///
/// # Panics
/// If it fails, prints no JSON, or takes longer than [`PEER_WAIT`].
pub(crate) async fn run_py_jetstream(url: &str, command: &str, args: &[&str]) -> serde_json::Value {
    let script = script("py_jetstream.py");
    let mut all = vec![script.to_str().expect("UTF-8 path"), url, command];
    all.extend_from_slice(args);
    let what = format!("py_jetstream.py {command}");
    let mut peer = Peer::spawn(&what, &python(), &all, false);
    let (status, stdout) = peer.finish(PEER_WAIT).await;
    assert!(
        status.success(),
        "{what} failed ({status})\nstderr:\n{}",
        peer.stderr()
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}): {stdout}\nstderr:\n{}",
            peer.stderr()
        )
    })
}
