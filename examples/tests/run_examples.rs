//! Runs every example binary against a real server and checks what it prints; the user
//! service binaries are also called, and stopped with SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use examples::users::{NewUser, UserId, UserServiceClient, USER_NOT_FOUND};
use nats_micro::CallError;
use nats_tests::NatsServer;

/// The longest any single step may take.
const WAIT: Duration = Duration::from_secs(20);

/// The variables `ConnectConfig::from_env` reads, which the sensors example uses.
const NATS_SETTINGS: [&str; 10] = [
    "NATS_CONTEXT",
    "NATS_USER",
    "NATS_PASSWORD",
    "NATS_TOKEN",
    "NATS_CREDS",
    "NATS_NKEY",
    "NATS_CA",
    "NATS_CERT",
    "NATS_KEY",
    "NATS_URL",
];

/// Runs the example `bin` against `server` and returns its standard output.
fn run(bin: &str, server: &NatsServer) -> String {
    run_with_args(bin, server, &[])
}

/// Runs the example `bin` with `args` against `server` and returns its standard output.
fn run_with_args(bin: &str, server: &NatsServer, args: &[&str]) -> String {
    let output = example(bin)
        .args(args)
        .env("NATS_URL", server.url())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{bin} failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The example `bin`, with no NATS settings from the environment the tests run in.
fn example(bin: &str) -> Command {
    let mut command = Command::new(path(bin));
    for name in NATS_SETTINGS {
        command.env_remove(name);
    }
    command
}

/// The path of the example binary `bin`.
fn path(bin: &str) -> &'static str {
    match bin {
        "demo" => env!("CARGO_BIN_EXE_demo"),
        "basic" => env!("CARGO_BIN_EXE_basic"),
        "wildcards" => env!("CARGO_BIN_EXE_wildcards"),
        "queue_groups" => env!("CARGO_BIN_EXE_queue_groups"),
        "request_reply" => env!("CARGO_BIN_EXE_request_reply"),
        "services" => env!("CARGO_BIN_EXE_services"),
        "sensors" => env!("CARGO_BIN_EXE_sensors"),
        "user_service" => env!("CARGO_BIN_EXE_user_service"),
        "user_service_manual" => env!("CARGO_BIN_EXE_user_service_manual"),
        other => panic!("unknown example {other}"),
    }
}

#[test]
fn demo_publishes_subscribes_and_balances_requests() {
    let server = NatsServer::spawn();
    let out = run("demo", &server);
    assert!(
        out.contains("received on demo.greet.joe: hello joe"),
        "{out}"
    );
    assert_eq!(out.matches("reply: responder").count(), 10, "{out}");
    assert!(
        out.contains("request to demo.nobody: no responders"),
        "{out}"
    );
    let served: u32 = out
        .lines()
        .filter_map(|l| l.strip_prefix("responder "))
        .filter_map(|l| l.split(" served ").nth(1))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum();
    assert_eq!(served, 10, "{out}");
    assert!(out.contains("drained and closed"), "{out}");
}

#[test]
fn demo_calls_the_user_service_and_lists_it() {
    let server = NatsServer::spawn();
    let out = run("demo", &server);
    let expected = [
        "started user-service 1.2.0 (built with #[service])",
        "created user 1: Ann <ann@example.com>",
        "got user 1: Ann <ann@example.com>",
        "updated user 1: Ann Lee <ann.lee@example.com>",
        "get user 99: USER_NOT_FOUND: no user with id 99",
        "create without a name: INVALID_INPUT: name must not be empty",
        "imported 2 users: ids [2, 3]",
        "deleted user 1: Ann Lee <ann.lee@example.com>",
        "-- services --",
        "1 service instance",
        "user service stopped",
    ];
    let lines: Vec<&str> = out.lines().collect();
    let mut at = 0;
    for line in expected {
        let found = lines[at..].iter().position(|l| *l == line);
        at += found.unwrap_or_else(|| panic!("no line {line:?} in order in:\n{out}")) + 1;
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("user-service 1.2.0  id ")
                && l.ends_with("\"User management service\"")),
        "{out}"
    );
    // name, subject, queue group, requests, errors, average time, data, last error
    let create = endpoint_row(&out, "create");
    assert_eq!(create[1..5], ["users.create", "q", "2", "1"], "{out}");
    assert_eq!(create[6], r#"{"users":2}"#, "{out}");
    assert_eq!(
        create[7..].join(" "),
        "INVALID_INPUT:name must not be empty",
        "{out}"
    );
    let get = endpoint_row(&out, "get");
    assert_eq!(get[1..5], ["users.get", "q", "2", "1"], "{out}");
    assert_eq!(get[7..].join(" "), "USER_NOT_FOUND:no user with id 99");
    let import = endpoint_row(&out, "import");
    assert_eq!(
        import[1..5],
        ["user-management.import", "bulk-import", "1", "0"],
        "{out}"
    );
    assert_eq!(import[7], "-", "{out}");
    for name in ["update", "delete"] {
        assert_eq!(endpoint_row(&out, name)[3..5], ["1", "0"], "{out}");
    }
}

/// The cells of the one row of the services table (after `-- services --`) for endpoint
/// `name`.
fn endpoint_row<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|line| *line != "-- services --")
        .filter(|line| line.starts_with("  "))
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.len() >= 8 && cells[0] == name)
        .collect();
    assert_eq!(rows.len(), 1, "one row for {name} in:\n{out}");
    rows.into_iter().next().unwrap_or_default()
}

/// A running user service binary: its stdout lines arrive on `lines`.
struct Serving {
    bin: &'static str,
    child: Option<Child>,
    pid: u32,
    id: String,
    lines: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Serving {
    /// Starts `bin` against `server` and waits for its `user-service <id> serving` line.
    fn start(bin: &'static str, server: &NatsServer) -> Serving {
        let mut child = Command::new(path(bin))
            .env("NATS_URL", server.url())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut serving = Serving {
            bin,
            pid: child.id(),
            child: Some(child),
            id: String::new(),
            lines,
            stderr: Some(stderr),
        };
        let first = serving.next_line("the serving line");
        let id = first
            .strip_prefix("user-service ")
            .and_then(|rest| rest.strip_suffix(" serving"))
            .unwrap_or_else(|| panic!("{bin}: unexpected first line {first:?}"));
        assert_eq!(id.len(), 22, "{bin}: an instance id is a NUID: {first:?}");
        serving.id = id.to_owned();
        serving
    }

    /// The next line printed, failing the test after [`WAIT`].
    fn next_line(&mut self, what: &str) -> String {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(error) => {
                let stderr = self.kill();
                panic!("{}: no {what} ({error}); stderr:\n{stderr}", self.bin)
            }
        }
    }

    /// Sends SIGTERM; returns how it exited and everything it printed after that.
    fn terminate(mut self) -> (ExitStatus, Vec<String>) {
        let mut child = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {} failed", self.pid);
        let (sender, exited) = mpsc::channel();
        thread::spawn(move || sender.send(child.wait()));
        let status = match exited.recv_timeout(WAIT) {
            Ok(status) => status.expect("wait for the process"),
            Err(_) => {
                let _ = Command::new("kill")
                    .args(["-KILL", &self.pid.to_string()])
                    .status();
                panic!("{} did not exit within {WAIT:?} of SIGTERM", self.bin);
            }
        };
        // The process is gone: the reader sends what is left in the pipe, then hangs up.
        let mut rest = Vec::new();
        loop {
            match self.lines.recv_timeout(WAIT) {
                Ok(line) => rest.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("{}: stdout did not end", self.bin),
            }
        }
        (status, rest)
    }

    /// Kills the process; returns what it wrote to stderr.
    fn kill(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

#[test]
fn user_service_serves_until_sigterm() {
    let server = NatsServer::spawn();
    let service = Serving::start("user_service", &server);
    runtime().block_on(async {
        let client = nats_core::connect(server.url()).await.expect("connect");
        let users = UserServiceClient::new(&client);
        let call = async {
            let ann = users
                .create(&NewUser::new("Ann", "ann@example.com"))
                .await?;
            let got = users.get(&UserId { id: ann.id }).await?;
            let missing = users.get(&UserId { id: ann.id + 1 }).await;
            Ok::<_, CallError>((ann, got, missing))
        };
        let (ann, got, missing) = tokio::time::timeout(WAIT, call)
            .await
            .expect("replies in time")
            .expect("the service answers");
        assert_eq!((ann.id, ann.name.as_str()), (1, "Ann"));
        assert_eq!(got, ann);
        match missing {
            Err(CallError::Service(error)) => assert_eq!(error.code, USER_NOT_FOUND),
            other => panic!("expected {USER_NOT_FOUND}, got {other:?}"),
        }
        client.drain().await.expect("drain");
    });
    let (status, rest) = service.terminate();
    assert_eq!(rest, ["stopped"], "what it printed after SIGTERM");
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn services_lists_both_user_services() {
    let server = NatsServer::spawn();
    let by_macro = Serving::start("user_service", &server);
    let by_hand = Serving::start("user_service_manual", &server);
    runtime().block_on(async {
        let client = nats_core::connect(server.url()).await.expect("connect");
        let users = UserServiceClient::new(&client);
        let created = tokio::time::timeout(WAIT, users.create(&NewUser::new("Bo", "bo@x.org")))
            .await
            .expect("a reply in time")
            .expect("created");
        assert_eq!(created.id, 1);
        client.drain().await.expect("drain");
    });
    let out = run("services", &server);
    assert_eq!(out.lines().next(), Some("2 service instances"), "{out}");
    for serving in [&by_macro, &by_hand] {
        let header = format!(
            "user-service 1.2.0  id {}  \"User management service\"",
            serving.id
        );
        assert!(out.lines().any(|l| l == header), "{header:?} in:\n{out}");
    }
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells.len() >= 8 && cells[0] != "ENDPOINT")
        .collect();
    assert_eq!(rows.len(), 10, "five endpoints per instance:\n{out}");
    let creates: u64 = rows
        .iter()
        .filter(|r| r[0] == "create")
        .map(|r| r[3].parse::<u64>().expect("a count"))
        .sum();
    assert_eq!(creates, 1, "one create request in all:\n{out}");
    assert_eq!(
        rows.iter()
            .filter(|r| r[..3] == ["import", "user-management.import", "bulk-import"])
            .count(),
        2,
        "{out}"
    );
    for serving in [by_macro, by_hand] {
        let bin = serving.bin;
        let (status, rest) = serving.terminate();
        assert_eq!(rest, ["stopped"], "{bin}");
        assert!(status.success(), "{bin}: {status}");
    }
}

#[test]
fn basic_usage() {
    let server = NatsServer::spawn();
    let out = run("basic", &server);
    assert!(out.contains("Received a message on 'foo': Hello"), "{out}");
    assert!(
        out.contains("Limited subscription received 2 messages"),
        "{out}"
    );
    assert!(out.contains("Handler received 3 messages"), "{out}");
}

#[test]
fn wildcards() {
    let server = NatsServer::spawn();
    let out = run("wildcards", &server);
    assert!(
        out.contains(r#"hello.* received: ["hello.world", "hello.there"]"#),
        "{out}"
    );
    assert!(
        out.contains(r#"hello.> received: ["hello.world", "hello.world.again", "hello.there"]"#),
        "{out}"
    );
}

#[test]
fn queue_groups() {
    let server = NatsServer::spawn();
    let out = run("queue_groups", &server);
    assert!(out.contains("30 updates handled in all"), "{out}");
    assert_eq!(out.matches("worker ").count(), 3, "{out}");
}

#[test]
fn request_reply() {
    let server = NatsServer::spawn();
    let out = run("request_reply", &server);
    assert!(
        out.contains("Received a request on 'help': help me"),
        "{out}"
    );
    assert!(out.contains("Received response: I can help"), "{out}");
    assert!(
        out.contains("nobody.home: no responders, as expected"),
        "{out}"
    );
}

#[test]
fn sensors_share_every_reading_once_between_two_blocking_workers() {
    let server = NatsServer::spawn();
    let out = run_with_args("sensors", &server, &["--count", "200"]);
    let processed: Vec<(u32, u64)> = out
        .lines()
        .filter_map(|line| line.strip_prefix("worker "))
        .filter_map(|rest| {
            let (worker, rest) = rest.split_once(" processed ")?;
            let count = rest.strip_suffix(" readings")?;
            Some((worker.parse().ok()?, count.parse().ok()?))
        })
        .collect();
    let workers: Vec<u32> = processed.iter().map(|(worker, _)| *worker).collect();
    assert_eq!(workers, [1, 2], "two workers reported:\n{out}");
    assert!(
        processed.iter().all(|(_, count)| *count > 0),
        "both workers did work:\n{out}"
    );
    let total: u64 = processed.iter().map(|(_, count)| count).sum();
    assert_eq!(total, 200, "{out}");
    assert!(
        out.contains("200 readings published, 200 processed, each exactly once"),
        "{out}"
    );
    let per_sensor: u64 = out
        .lines()
        .filter_map(|line| line.strip_prefix("sensor t"))
        .filter_map(|rest| {
            rest.split(": ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    assert_eq!(per_sensor, 200, "three sensors' readings add up:\n{out}");
    assert!(out.ends_with("drained and closed\n"), "{out}");
}

#[test]
fn sensors_refuses_a_bad_count_and_a_bad_environment() {
    let server = NatsServer::spawn();
    let output = example("sensors")
        .args(["--count", "none"])
        .env("NATS_URL", server.url())
        .output()
        .expect("run sensors");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("sensors: --count: \"none\" is not a positive number"),
        "{stderr}"
    );
    let output = example("sensors")
        .env("NATS_URL", "nats://:x")
        .output()
        .expect("run sensors");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("sensors: NATS_URL: "), "{stderr}");
}
