//! Running the binary: its environment cleared of NATS settings, its output read as it
//! comes, every wait bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest a run of the binary, or any wait for its output, may take.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The variables the binary reads; the tests set what they mean to and clear the rest.
pub(crate) const NATS_VARIABLES: [&str; 11] = [
    "NATS_URL",
    "NATS_USER",
    "NATS_PASSWORD",
    "NATS_TOKEN",
    "NATS_CREDS",
    "NATS_NKEY",
    "NATS_CA",
    "NATS_CERT",
    "NATS_KEY",
    "NATS_CONTEXT",
    "NATS_TIMEOUT",
];

/// How a finished run of the binary went.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Outcome {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Fails the test, showing everything, unless the run exited 0.
    pub(crate) fn success(self) -> Outcome {
        assert!(self.status.success(), "nats-rs failed: {self:#?}");
        self
    }

    /// The stdout parsed as one JSON document.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

/// The binary with no NATS settings from the test's environment and no NATS CLI contexts
/// (its config directory is `config`).
pub(crate) fn nats_rs(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nats-rs"));
    for name in NATS_VARIABLES {
        command.env_remove(name);
    }
    command
        .env("XDG_CONFIG_HOME", config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running binary: its stdout and stderr lines arrive on channels as it prints them.
pub(crate) struct Running {
    child: Option<Child>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    readers: Vec<JoinHandle<()>>,
}

impl Running {
    pub(crate) fn start(command: Command) -> Running {
        Self::start_with_input(command, Vec::new())
    }

    /// Starts `command` with `input` on its stdin (nothing, then the end, when empty).
    pub(crate) fn start_with_input(mut command: Command, input: Vec<u8>) -> Running {
        if !input.is_empty() {
            command.stdin(Stdio::piped());
        }
        let mut child = command.spawn().expect("start nats-rs");
        if let Some(mut stdin) = child.stdin.take() {
            // Written on a thread of its own, so a large input cannot block the test; the
            // pipe closes when it is done.
            thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
        let stdout = lines(child.stdout.take().expect("piped stdout"));
        let stderr = lines(child.stderr.take().expect("piped stderr"));
        Running {
            child: Some(child),
            stdout: stdout.0,
            stderr: stderr.0,
            readers: vec![stdout.1, stderr.1],
        }
    }

    /// Waits for a line on stderr that contains `text`; returns the lines up to it.
    pub(crate) fn wait_for_stderr(&mut self, text: &str) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(text);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                Err(error) => {
                    self.kill();
                    panic!("no {text:?} on stderr ({error}); it printed {seen:#?}");
                }
            }
        }
    }

    /// Waits for the process to exit and returns all it printed.
    pub(crate) fn finish(mut self) -> Outcome {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + WAIT;
        let status = loop {
            match child.try_wait().expect("wait for nats-rs") {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("nats-rs did not exit within {WAIT:?}");
                }
                None => thread::sleep(Duration::from_millis(10)),
            }
        };
        // The process is gone: the readers reach the end of the pipes.
        for reader in self.readers.drain(..) {
            reader.join().expect("reader thread");
        }
        let join = |lines: &Receiver<String>| lines.try_iter().collect::<Vec<_>>().join("\n");
        Outcome {
            status,
            stdout: with_newline(join(&self.stdout)),
            stderr: with_newline(join(&self.stderr)),
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

fn with_newline(text: String) -> String {
    if text.is_empty() {
        text
    } else {
        text + "\n"
    }
}

/// The lines read from `pipe` on a thread of their own.
fn lines(pipe: impl Read + Send + 'static) -> (Receiver<String>, JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    (receiver, reader)
}

/// Runs `command` and returns its exit status, its stdout as bytes and its stderr, failing
/// the test if it runs longer than [`WAIT`].
pub(crate) fn run_bytes(mut command: Command) -> (ExitStatus, Vec<u8>, String) {
    let mut child = command.spawn().expect("start nats-rs");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + WAIT;
    let status = loop {
        match child.try_wait().expect("wait for nats-rs") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("nats-rs did not exit within {WAIT:?}");
            }
            None => thread::sleep(Duration::from_millis(10)),
        }
    };
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    (status, stdout, stderr)
}
