//! The bus each test starts: a server (with JetStream when asked), a client of it, and
//! nats-micro services.

use std::process::{Command, ExitStatus};

use nats_core::Client;
use nats_micro::{handler_fn, Bytes, EndpointConfig, Service, ServiceError};
use nats_tests::NatsServer;
use tempfile::TempDir;

use super::process::{nats_rs, run_bytes, Outcome, Running, WAIT};

/// A server, a client of it, and nats-micro services on it, each with the endpoints `echo`
/// (`<name>.echo`, answers with the request's body) and `fail` (`<name>.fail`, always `404
/// no such user`); plus an empty config directory for the binary.
pub(crate) struct Bus {
    pub(crate) server: NatsServer,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) client: Client,
    pub(crate) services: Vec<Service>,
    pub(crate) config: TempDir,
}

/// The name of the test service.
pub(crate) const SERVICE: &str = "clitest";

async fn echo(body: Bytes) -> Bytes {
    body
}

async fn fail() -> Result<String, ServiceError> {
    Err(ServiceError::not_found("no such user"))
}

impl Bus {
    /// Two instances of [`SERVICE`] 1.0.0 and one of `other` 2.1.0.
    pub(crate) fn start() -> Bus {
        Self::with_services(&[(SERVICE, "1.0.0"), (SERVICE, "1.0.0"), ("other", "2.1.0")])
    }

    /// The services `(name, version)`.
    pub(crate) fn with_services(services: &[(&str, &str)]) -> Bus {
        Self::on(NatsServer::spawn(), services)
    }

    /// A server with JetStream, and no services.
    pub(crate) fn jetstream() -> Bus {
        Self::on(NatsServer::spawn_jetstream(), &[])
    }

    /// The services `(name, version)` on `server`.
    fn on(server: NatsServer, services: &[(&str, &str)]) -> Bus {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let client = runtime
            .block_on(nats_core::connect(server.url()))
            .expect("connect");
        let services = services
            .iter()
            .map(|(name, version)| {
                let builder = Service::builder(*name, *version)
                    .description(format!("the {name} service"))
                    .metadata("team", "tools")
                    .endpoint(
                        EndpointConfig::new("echo")
                            .subject(format!("{name}.echo"))
                            .metadata("kind", "mirror"),
                        handler_fn(echo),
                    )
                    .endpoint(
                        EndpointConfig::new("fail").subject(format!("{name}.fail")),
                        handler_fn(fail),
                    );
                runtime
                    .block_on(builder.start(&client))
                    .expect("start the service")
            })
            .collect();
        let config = TempDir::new().expect("a config directory");
        Bus {
            server,
            runtime,
            client,
            services,
            config,
        }
    }

    /// The binary, connecting to this bus with `--server`.
    pub(crate) fn nats_rs(&self) -> Command {
        let mut command = nats_rs(self.config.path());
        command.args(["--server", &self.server.url()]);
        command
    }

    /// Runs the binary with `args` against this bus and waits for it.
    pub(crate) fn run(&self, args: &[&str]) -> Outcome {
        let mut command = self.nats_rs();
        command.args(args);
        Running::start(command).finish()
    }

    /// Runs the binary with `args` against this bus, `input` on its stdin, and waits for it.
    pub(crate) fn run_with_input(&self, args: &[&str], input: &[u8]) -> Outcome {
        let mut command = self.nats_rs();
        command.args(args);
        Running::start_with_input(command, input.to_vec()).finish()
    }

    /// Runs the binary with `args` and returns its exit status and stdout as bytes (for
    /// output that is not text).
    pub(crate) fn run_bytes(&self, args: &[&str]) -> (ExitStatus, Vec<u8>, String) {
        let mut command = self.nats_rs();
        command.args(args);
        run_bytes(command)
    }

    /// The ids of the instances of `clitest`, sorted.
    pub(crate) fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .services
            .iter()
            .filter(|s| s.name() == SERVICE)
            .map(|s| s.id().to_owned())
            .collect();
        ids.sort();
        ids
    }

    /// Sends a request with the test's own client and returns the reply's body.
    pub(crate) fn request(&self, subject: &str, body: &str) -> String {
        let reply = self.runtime.block_on(async {
            let request = self.client.request(subject, body.to_owned());
            tokio::time::timeout(WAIT, request).await
        });
        let reply = reply
            .unwrap_or_else(|_| panic!("no reply on {subject} within {WAIT:?}"))
            .unwrap_or_else(|e| panic!("request on {subject}: {e}"));
        String::from_utf8_lossy(&reply.payload).into_owned()
    }
}
