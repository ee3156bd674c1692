//! Starting one `nats-server` process and waiting until it is ready.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::binary::nats_server_bin;
use crate::logs::{self, Listener, LogTail};

/// How long a server may take to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server logs when a port it must listen on is taken.
const PORT_TAKEN: &str = "address already in use";

/// The ports a server announced in its startup log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ports {
    /// The client port.
    pub(crate) client: u16,
    /// The route port, if the server listens for routes.
    pub(crate) route: Option<u16>,
    /// The HTTP monitoring port, if the server has one.
    pub(crate) monitor: Option<u16>,
}

/// A freshly started process and what [`launch`] learned about it.
pub(crate) struct Launched {
    /// The process.
    pub(crate) child: Child,
    /// The thread draining its stderr.
    pub(crate) reader: JoinHandle<()>,
    /// Its latest log lines.
    pub(crate) logs: LogTail,
    /// The ports it listens on.
    pub(crate) ports: Ports,
}

/// A server that did not come up; the process has been killed and reaped.
pub(crate) struct Failed {
    what: String,
    status: String,
    logs: String,
}

impl Failed {
    /// Whether it failed because a port it was told to use was taken.
    pub(crate) fn port_taken(&self) -> bool {
        self.logs.contains(PORT_TAKEN)
    }

    /// Panics with what went wrong and the server's log.
    pub(crate) fn panic(self) -> ! {
        panic!(
            "nats-server {} ({}); its stderr:\n{}",
            self.what, self.status, self.logs
        );
    }
}

/// Starts `nats-server` with `args` on `port` (or one it picks), waits until it
/// has announced the `wanted` listeners (and the client one), then until the
/// client port accepts TCP connections.
///
/// # Errors
///
/// Returns why the server did not come up, once its process is gone.
///
/// # Panics
///
/// Panics if the binary cannot be found or started.
pub(crate) fn launch(
    args: &[OsString],
    port: Option<u16>,
    wanted: &[Listener],
) -> Result<Launched, Failed> {
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

    let (mut client, mut route, mut monitor) = (None, None, None);
    let announced = |client: Option<u16>, route: Option<u16>, monitor: Option<u16>| {
        client.is_some()
            && wanted.iter().all(|listener| match listener {
                Listener::Client => client.is_some(),
                Listener::Route => route.is_some(),
                Listener::Monitor => monitor.is_some(),
            })
    };
    while !announced(client, route, monitor) {
        let left = deadline.saturating_duration_since(Instant::now());
        match port_rx.recv_timeout(left) {
            Ok((Listener::Client, port)) => client = Some(port),
            Ok((Listener::Route, port)) => route = Some(port),
            Ok((Listener::Monitor, port)) => monitor = Some(port),
            Err(RecvTimeoutError::Timeout) => {
                let what = format!("did not log its {wanted:?} ports within {STARTUP_TIMEOUT:?}");
                return Err(fail(child, reader, &logs, what));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(fail(child, reader, &logs, "exited before listening"));
            }
        }
    }
    let Some(client) = client else {
        unreachable!("the loop ends once the client port is known");
    };
    let ports = Ports {
        client,
        route,
        monitor,
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, client));
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(Launched {
                child,
                reader,
                logs,
                ports,
            });
        }
        if Instant::now() >= deadline {
            let what = format!("did not accept connections within {STARTUP_TIMEOUT:?}");
            return Err(fail(child, reader, &logs, what));
        }
        if let Ok(Some(_)) = child.try_wait() {
            return Err(fail(
                child,
                reader,
                &logs,
                "exited before accepting connections",
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a server that failed to come up and describes the failure.
fn fail(
    mut child: Child,
    reader: JoinHandle<()>,
    logs: &LogTail,
    what: impl Into<String>,
) -> Failed {
    let _ = child.kill();
    let status = match child.wait() {
        Ok(status) => status.to_string(),
        Err(err) => format!("unknown ({err})"),
    };
    let _ = reader.join();
    Failed {
        what: what.into(),
        status,
        logs: logs.text(),
    }
}
