//! A `nats-server` child process owned by one test.

use std::ffi::OsString;
use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Child;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::launch::{launch, Ports};
use crate::logs::{Listener, LogTail};
use crate::signal::{self, Signal};

/// How long a restart keeps trying while another process holds the server's port.
const PORT_RETRY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a restart waits before trying a taken port again.
const PORT_RETRY_DELAY: Duration = Duration::from_millis(50);

/// How long a server's threads may take to stop once sent `SIGSTOP`.
const PAUSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a server may take to enter lame duck mode once signalled.
const LAME_DUCK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server logs once it has entered lame duck mode.
const LAME_DUCK_LOG: &str = "Entering lame duck mode";

/// Name of the config file written by [`NatsServer::spawn_with_config`].
const CONFIG_FILE: &str = "nats-server.conf";

/// The listeners a plain server must have announced before it counts as started.
const CLIENT_ONLY: &[Listener] = &[Listener::Client];

/// A running `nats-server`, killed when dropped.
///
/// The server listens on `127.0.0.1` only. On the first start it picks a free
/// port itself (`-p -1`) and the harness reads the port back from its startup
/// log, so servers spawned by tests running in parallel never race for a port.
/// [`restart`](Self::restart) reuses that port and the same store directory.
///
/// [`pause`](Self::pause) freezes the process (`SIGSTOP`) and
/// [`resume`](Self::resume) lets it run again; [`lame_duck`](Self::lame_duck)
/// puts it into lame duck mode. Dropping a paused server still kills it.
pub struct NatsServer {
    child: Child,
    reader: Option<JoinHandle<()>>,
    logs: LogTail,
    ports: Ports,
    /// The listeners every start waits for.
    wanted: &'static [Listener],
    /// Every argument except the port, reused by [`restart`](Self::restart).
    args: Vec<OsString>,
    /// Whether the process was sent `SIGSTOP` and not `SIGCONT` since.
    paused: bool,
    // Declared last so it is removed after the process is gone.
    store: TempDir,
}

impl NatsServer {
    /// Starts a server with default options.
    ///
    /// # Panics
    ///
    /// Panics if the binary cannot be found or started, or if the server does
    /// not accept connections within 10 seconds.
    pub fn spawn() -> Self {
        Self::spawn_with_args(&[])
    }

    /// Starts a server with JetStream enabled (`-js`), storing into the
    /// temporary directory.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_jetstream() -> Self {
        Self::spawn_with_args(&["-js"])
    }

    /// Starts a server with extra command-line arguments, such as
    /// `["--user", "u", "--pass", "p"]`.
    ///
    /// The harness always passes the address, port and store directory; do not
    /// pass `-p`.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_with_args(args: &[&str]) -> Self {
        Self::start(None, args, CLIENT_ONLY)
    }

    /// Starts a server from the text of a configuration file.
    ///
    /// The text is written into the temporary directory and passed with `-c`;
    /// the listen address and port on the command line override the file's.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn), and if the file cannot be written.
    pub fn spawn_with_config(conf_text: &str) -> Self {
        Self::start(Some(conf_text), &[], CLIENT_ONLY)
    }

    /// The URL clients connect to: `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.host_port())
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.ports.client
    }

    /// The client address as `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        format!("{}:{}", Ipv4Addr::LOCALHOST, self.ports.client)
    }

    /// The port the server listens on for route (cluster) connections, if it
    /// announced one before it was considered started.
    ///
    /// Always known for the nodes of a [`NatsCluster`](crate::NatsCluster).
    pub fn cluster_port(&self) -> Option<u16> {
        self.ports.route
    }

    /// The port of the HTTP monitoring endpoint (`-m`), if the server has one.
    ///
    /// Always known for the nodes of a [`NatsCluster`](crate::NatsCluster); it
    /// may change when the node restarts.
    pub fn monitor_port(&self) -> Option<u16> {
        self.ports.monitor
    }

    /// Fetches the monitoring endpoint `path` (such as `/varz`, `/connz?auth=1`
    /// or `/routez`) over plain HTTP and parses its JSON, to see how the
    /// server judged connections: their TLS version, account, user and so on.
    ///
    /// # Panics
    ///
    /// Panics if the server has no [monitoring port](Self::monitor_port)
    /// (start it with `-m -1`, as every [`NatsCluster`](crate::NatsCluster)
    /// node is), or the request fails or does not answer JSON.
    pub fn monitor_json(&self, path: &str) -> serde_json::Value {
        let port = self
            .monitor_port()
            .unwrap_or_else(|| panic!("nats-server has no monitoring port; start it with -m -1"));
        crate::monitor::get_json(port, path).unwrap_or_else(|err| panic!("{err}"))
    }

    /// The temporary directory holding the config file and JetStream data.
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// The operating-system process id of the current server process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The latest lines the server wrote to stderr, for failure messages.
    pub fn logs(&self) -> String {
        self.logs.text()
    }

    /// Freezes the server process with `SIGSTOP`, as a hung or overloaded
    /// server would look: connections stay open, the kernel still accepts new
    /// ones, but the server reads and writes nothing until
    /// [`resume`](Self::resume). Returns once all its threads have stopped.
    ///
    /// # Panics
    ///
    /// Panics if the server is stopped, if `kill -STOP` fails, or if the
    /// process has not stopped within 5 seconds.
    pub fn pause(&mut self) {
        let pid = self.running_pid("pause");
        signal::send(pid, Signal::Stop).unwrap_or_else(|err| panic!("cannot pause: {err}"));
        self.paused = true;
        signal::wait_stopped(pid, PAUSE_TIMEOUT)
            .unwrap_or_else(|err| panic!("cannot pause: {err}"));
    }

    /// Lets a server frozen by [`pause`](Self::pause) run again with `SIGCONT`.
    ///
    /// # Panics
    ///
    /// Panics if the server is stopped or `kill -CONT` fails.
    pub fn resume(&mut self) {
        let pid = self.running_pid("resume");
        signal::send(pid, Signal::Cont).unwrap_or_else(|err| panic!("cannot resume: {err}"));
        self.paused = false;
    }

    /// Whether the server is frozen by [`pause`](Self::pause).
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Puts the server into lame duck mode with `nats-server --signal ldm=PID`
    /// and waits until it has entered it.
    ///
    /// The server stops accepting connections at once, sends connected clients
    /// that declared `"protocol":1` in `CONNECT` an `INFO` with `"ldm":true`
    /// right away, and after `lame_duck_grace_period` (10 s by
    /// default) closes them one by one over `lame_duck_duration` (2 min by
    /// default) before it exits; set both in the config to make that quicker.
    ///
    /// # Panics
    ///
    /// Panics if the server is stopped, if the command fails, or if the server
    /// does not log that it entered lame duck mode within 10 seconds.
    pub fn lame_duck(&mut self) {
        let pid = self.running_pid("enter lame duck mode");
        signal::lame_duck(pid).unwrap_or_else(|err| panic!("cannot enter lame duck mode: {err}"));
        let deadline = Instant::now() + LAME_DUCK_TIMEOUT;
        while !self.logs.text().contains(LAME_DUCK_LOG) {
            assert!(
                Instant::now() < deadline,
                "nats-server did not enter lame duck mode within {LAME_DUCK_TIMEOUT:?}; \
                 its stderr:\n{}",
                self.logs()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pid of the running process, or a panic saying the server cannot `what`.
    fn running_pid(&self, what: &str) -> u32 {
        assert!(!self.is_stopped(), "cannot {what} a stopped nats-server");
        self.pid()
    }

    /// Kills the server and starts it again on the same port with the same
    /// arguments and store directory, as for a server restart in production.
    ///
    /// # Panics
    ///
    /// Panics if the new process does not accept connections within 10
    /// seconds, or if something else holds the port for 10 seconds (it is
    /// tried again meanwhile).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port and store.
    ///
    /// # Panics
    ///
    /// As [`restart`](Self::restart).
    pub fn start_again(&mut self) {
        // Another test's server may have been given the freed port meanwhile;
        // most tests are short, so waiting a while for it often helps.
        let deadline = Instant::now() + PORT_RETRY_TIMEOUT;
        let started = loop {
            match launch(&self.args, Some(self.ports.client), self.wanted) {
                Ok(started) => break started,
                Err(failed) if failed.port_taken() && Instant::now() < deadline => {
                    thread::sleep(PORT_RETRY_DELAY);
                }
                Err(failed) => failed.panic(),
            }
        };
        self.child = started.child;
        self.reader = Some(started.reader);
        self.logs = started.logs;
        self.ports = started.ports;
    }

    /// Starts a server that counts as started once it has announced every
    /// listener in `wanted`; the client listener is always waited for.
    pub(crate) fn start(
        conf_text: Option<&str>,
        extra: &[&str],
        wanted: &'static [Listener],
    ) -> Self {
        let store = tempfile::Builder::new()
            .prefix("nats-server-")
            .tempdir()
            .unwrap_or_else(|err| panic!("cannot create a temporary store directory: {err}"));
        let mut args: Vec<OsString> = vec![
            "-a".into(),
            Ipv4Addr::LOCALHOST.to_string().into(),
            "-sd".into(),
            store.path().into(),
        ];
        if let Some(text) = conf_text {
            let conf = store.path().join(CONFIG_FILE);
            fs::write(&conf, text)
                .unwrap_or_else(|err| panic!("cannot write {}: {err}", conf.display()));
            args.push("-c".into());
            args.push(conf.into());
        }
        args.extend(extra.iter().map(OsString::from));
        let started = launch(&args, None, wanted).unwrap_or_else(|failed| failed.panic());
        Self {
            child: started.child,
            reader: Some(started.reader),
            logs: started.logs,
            ports: started.ports,
            wanted,
            args,
            paused: false,
            store,
        }
    }

    /// Replaces the text of the config file, for the next start.
    ///
    /// # Panics
    ///
    /// Panics if the server was not started with a config file, or if the file
    /// cannot be written.
    pub(crate) fn rewrite_config(&self, conf_text: &str) {
        let conf = self.store.path().join(CONFIG_FILE);
        assert!(
            self.args.iter().any(|arg| Path::new(arg) == conf),
            "nats-server was started without a config file"
        );
        fs::write(&conf, conf_text)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", conf.display()));
    }

    /// Whether the process was stopped by [`stop`](Self::stop) and not started since.
    pub(crate) fn is_stopped(&self) -> bool {
        self.reader.is_none()
    }

    /// Kills the process and waits for it and for its log reader, as a crash would end it;
    /// [`start_again`](Self::start_again) brings it back.
    ///
    /// Works on a [paused](Self::pause) server too.
    pub fn stop(&mut self) {
        // Errors mean the process has already exited, which is what we want.
        let _ = self.child.kill();
        if self.paused {
            // SIGKILL ends a stopped process too, without letting it run
            // first; continuing it is only belt and braces so that `wait`
            // cannot hang. Before `wait` the pid cannot have been reused.
            let _ = signal::send(self.child.id(), Signal::Cont);
            self.paused = false;
        }
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for NatsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsServer")
            .field("pid", &self.child.id())
            .field("port", &self.ports.client)
            .field("cluster_port", &self.ports.route)
            .field("paused", &self.paused)
            .field("store", &self.store.path())
            .finish_non_exhaustive()
    }
}
