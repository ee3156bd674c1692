//! A `nats-server` child process owned by one test.

use std::ffi::OsString;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::binary::nats_server_bin;
use crate::logs::{self, LogTail};

/// How long a server may take to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Name of the config file written by [`NatsServer::spawn_with_config`].
const CONFIG_FILE: &str = "nats-server.conf";

/// A running `nats-server`, killed when dropped.
///
/// The server listens on `127.0.0.1` only. On the first start it picks a free
/// port itself (`-p -1`) and the harness reads the port back from its startup
/// log, so servers spawned by tests running in parallel never race for a port.
/// [`restart`](Self::restart) reuses that port and the same store directory.
pub struct NatsServer {
    child: Child,
    reader: Option<JoinHandle<()>>,
    logs: LogTail,
    port: u16,
    /// Every argument except the port, reused by [`restart`](Self::restart).
    args: Vec<OsString>,
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
        Self::start(None, args)
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
        Self::start(Some(conf_text), &[])
    }

    /// The URL clients connect to: `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.host_port())
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The client address as `127.0.0.1:PORT`.
    pub fn host_port(&self) -> String {
        format!("{}:{}", Ipv4Addr::LOCALHOST, self.port)
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

    /// Kills the server and starts it again on the same port with the same
    /// arguments and store directory, as for a server restart in production.
    ///
    /// # Panics
    ///
    /// Panics if the new process does not accept connections within 10
    /// seconds (for example because something else took the port meanwhile).
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
        let (child, reader, logs, _) = launch(&self.args, Some(self.port));
        self.child = child;
        self.reader = Some(reader);
        self.logs = logs;
    }

    fn start(conf_text: Option<&str>, extra: &[&str]) -> Self {
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
        let (child, reader, logs, port) = launch(&args, None);
        Self {
            child,
            reader: Some(reader),
            logs,
            port,
            args,
            store,
        }
    }

    /// Kills the process and waits for it and for its log reader, as a crash would end it;
    /// [`start_again`](Self::start_again) brings it back.
    pub fn stop(&mut self) {
        // Errors mean the process has already exited, which is what we want.
        let _ = self.child.kill();
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
            .field("port", &self.port)
            .field("store", &self.store.path())
            .finish_non_exhaustive()
    }
}

/// Starts `nats-server` with `args` on `port` (or one it picks) and waits until
/// the port accepts TCP connections.
fn launch(args: &[OsString], port: Option<u16>) -> (Child, JoinHandle<()>, LogTail, u16) {
    let bin = nats_server_bin();
    let port_arg = port.map_or_else(|| "-1".to_owned(), |port| port.to_string());
    let mut child = Command::new(&bin)
        .args(args)
        .arg("-p")
        .arg(&port_arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start {}: {err} (run ./scripts/install-nats-server.sh \
                 or set NATS_SERVER_BIN)",
                bin.display()
            )
        });
    let logs = LogTail::default();
    let Some(stderr) = child.stderr.take() else {
        unreachable!("stderr was configured as piped");
    };
    let (reader, port_rx) = logs::drain(stderr, logs.clone());
    let deadline = Instant::now() + STARTUP_TIMEOUT;

    let port = match port_rx.recv_timeout(STARTUP_TIMEOUT) {
        Ok(port) => port,
        Err(RecvTimeoutError::Timeout) => {
            let what = format!("did not log its client port within {STARTUP_TIMEOUT:?}");
            fail(child, reader, &logs, &what)
        }
        Err(RecvTimeoutError::Disconnected) => {
            fail(child, reader, &logs, "exited before listening")
        }
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return (child, reader, logs, port);
        }
        if Instant::now() >= deadline {
            let what = format!("did not accept connections within {STARTUP_TIMEOUT:?}");
            fail(child, reader, &logs, &what);
        }
        if let Ok(Some(_)) = child.try_wait() {
            fail(child, reader, &logs, "exited before accepting connections");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a server that failed to come up and panics with its log.
fn fail(mut child: Child, reader: JoinHandle<()>, logs: &LogTail, what: &str) -> ! {
    let _ = child.kill();
    let status = match child.wait() {
        Ok(status) => status.to_string(),
        Err(err) => format!("unknown ({err})"),
    };
    let _ = reader.join();
    panic!(
        "nats-server {what} ({status}); its stderr:\n{}",
        logs.text()
    );
}
