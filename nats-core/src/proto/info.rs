//! The JSON bodies of `INFO` (server to client) and `CONNECT` (client to server).

use serde::{Deserialize, Serialize};

/// What the server says about itself in `INFO`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ServerInfo {
    /// Unique id of the server.
    pub server_id: String,
    /// Name of the server (defaults to its id).
    pub server_name: String,
    /// Server version, such as `2.15.1`.
    pub version: String,
    /// Go version the server was built with.
    pub go: String,
    /// Host the server listens on.
    pub host: String,
    /// Port the server listens on.
    pub port: u16,
    /// Whether the server supports headers.
    pub headers: bool,
    /// Largest payload (headers included) the server accepts, in bytes.
    pub max_payload: usize,
    /// Protocol version.
    pub proto: i8,
    /// Id the server gave this connection.
    pub client_id: u64,
    /// Whether the server requires authentication.
    pub auth_required: bool,
    /// Whether the server requires TLS.
    pub tls_required: bool,
    /// Whether the server verifies client certificates.
    pub tls_verify: bool,
    /// Whether TLS is available (but not required).
    pub tls_available: bool,
    /// Other servers of the cluster that clients may connect to.
    pub connect_urls: Vec<String>,
    /// Other servers of the cluster, for websocket clients.
    pub ws_connect_urls: Vec<String>,
    /// Lame duck mode: the server is about to shut down.
    #[serde(rename = "ldm")]
    pub lame_duck_mode: bool,
    /// Git commit of the server build.
    pub git_commit: String,
    /// Whether JetStream is enabled.
    pub jetstream: bool,
    /// Address of the server as seen by itself.
    pub ip: String,
    /// Address of this client as seen by the server.
    pub client_ip: String,
    /// Nonce to sign with NKeys authentication.
    pub nonce: String,
    /// Name of the cluster.
    pub cluster: String,
    /// JetStream domain.
    pub domain: String,
}

/// What the client says about itself in `CONNECT`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ConnectInfo {
    pub(crate) verbose: bool,
    pub(crate) pedantic: bool,
    pub(crate) tls_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    pub(crate) lang: &'static str,
    pub(crate) version: &'static str,
    pub(crate) protocol: u8,
    pub(crate) echo: bool,
    pub(crate) headers: bool,
    pub(crate) no_responders: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pass: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) auth_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) jwt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nkey: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sig: Option<String>,
}

impl std::fmt::Debug for ConnectInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |value: &Option<String>| value.as_ref().map(|_| "***");
        f.debug_struct("ConnectInfo")
            .field("name", &self.name)
            .field("tls_required", &self.tls_required)
            .field("user", &self.user)
            .field("pass", &secret(&self.pass))
            .field("auth_token", &secret(&self.auth_token))
            .field("nkey", &self.nkey)
            .field("jwt", &secret(&self.jwt))
            .field("sig", &secret(&self.sig))
            .finish_non_exhaustive()
    }
}
