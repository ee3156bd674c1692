//! Connection settings from outside the program: environment variables (`NATS_URL`,
//! `NATS_USER`, `NATS_CREDS`, ...) and the context files of the NATS CLI
//! (`~/.config/nats/context/NAME.json`), so that a program finds its server and credentials
//! where operators already keep them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // NATS_CONTEXT, then NATS_URL, NATS_CREDS, NATS_CA, ... (a bad value names its variable).
//! let config = nats_core::ConnectConfig::from_env()?;
//! let client = config.options().name("worker").connect(config.servers()).await?;
//! # let _ = client; Ok(()) }
//! ```

mod context;
mod env;
mod error;

use std::fmt;
use std::path::PathBuf;

pub use context::context_dir;
pub use error::{ConfigError, ConfigErrorKind};

use crate::options::ConnectOptions;
use crate::server_addr::ToServerAddrs;

/// The server used when nothing names one.
pub const DEFAULT_SERVER: &str = "nats://127.0.0.1:4222";

/// Where to connect and how to authenticate, read from the environment
/// ([`from_env`](Self::from_env)) or a NATS CLI context ([`from_context`](Self::from_context)),
/// validated as it is read: every setting that cannot be used is an error naming it.
///
/// [`options`](Self::options) turns it into [`ConnectOptions`] (to which you add your own), and
/// [`servers`](Self::servers) is the server list to connect to.
#[derive(Clone, Default)]
pub struct ConnectConfig {
    pub(crate) servers: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) creds: Option<PathBuf>,
    pub(crate) nkey: Option<PathBuf>,
    /// An NKey seed given inline (`NATS_NKEY=SU...`) rather than as a file.
    pub(crate) nkey_seed: Option<String>,
    /// A user JWT and the seed of the `nkey` file that signs for it (contexts' `user_jwt`).
    pub(crate) jwt_creds: Option<String>,
    pub(crate) ca: Option<PathBuf>,
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
    pub(crate) tls_first: bool,
    pub(crate) inbox_prefix: Option<String>,
    pub(crate) jetstream_domain: Option<String>,
    pub(crate) jetstream_api_prefix: Option<String>,
    pub(crate) context: Option<String>,
}

impl ConnectConfig {
    /// The server list: the configured one, or [`DEFAULT_SERVER`].
    pub fn servers(&self) -> &str {
        self.servers.as_deref().unwrap_or(DEFAULT_SERVER)
    }

    /// The connect options these settings ask for: credentials, TLS files, TLS first, inbox
    /// prefix. Add your own before connecting.
    pub fn options(&self) -> ConnectOptions {
        let mut options = ConnectOptions::new();
        if let Some(user) = &self.user {
            options = options.user_and_password(user, self.password.clone().unwrap_or_default());
        }
        if let Some(token) = &self.token {
            options = options.token(token);
        }
        if let Some(creds) = &self.creds {
            options = options.credentials_file(creds);
        }
        match (&self.jwt_creds, &self.nkey, &self.nkey_seed) {
            (Some(creds), _, _) => options = options.credentials(creds),
            (None, Some(nkey), _) => options = options.nkey_seed_file(nkey),
            (None, None, Some(seed)) => options = options.nkey_seed(seed),
            (None, None, None) => {}
        }
        if let Some(ca) = &self.ca {
            options = options.tls_ca_file(ca);
        }
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            options = options.tls_client_cert_files(cert, key);
        }
        if self.tls_first {
            options = options.tls_handshake_first(true);
        }
        if let Some(prefix) = &self.inbox_prefix {
            options = options.inbox_prefix(prefix);
        }
        options
    }

    /// Connects with [`options`](Self::options) to [`servers`](Self::servers).
    ///
    /// # Errors
    /// As [`ConnectOptions::connect`].
    pub async fn connect(&self) -> Result<crate::Client, crate::ConnectError> {
        self.options().connect(self.servers()).await
    }

    /// The JetStream domain of the context, if it names one.
    pub fn jetstream_domain(&self) -> Option<&str> {
        self.jetstream_domain.as_deref()
    }

    /// The JetStream API prefix of the context, if it names one.
    pub fn jetstream_api_prefix(&self) -> Option<&str> {
        self.jetstream_api_prefix.as_deref()
    }

    /// The NATS CLI context these settings came from, if any.
    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// The same settings with the server list `servers` (checked like `NATS_URL`).
    ///
    /// # Errors
    /// [`ConfigErrorKind::InvalidValue`] naming `setting` when a URL does not parse.
    pub fn with_servers(mut self, setting: &str, servers: &str) -> Result<Self, ConfigError> {
        self.servers = Some(check_servers(setting, servers)?);
        Ok(self)
    }

    /// `self` with every setting `other` has replacing its own (the environment over a
    /// context, say).
    pub(crate) fn overlaid_with(mut self, other: ConnectConfig) -> ConnectConfig {
        // Credentials come as a whole: a user from the environment drops the context's token.
        if other.has_credentials() {
            self.user = None;
            self.password = None;
            self.token = None;
            self.creds = None;
            self.nkey = None;
            self.nkey_seed = None;
            self.jwt_creds = None;
        }
        // So do the client certificate and its key.
        if other.cert.is_some() || other.key.is_some() {
            self.cert = None;
            self.key = None;
        }
        take(&mut self.servers, other.servers);
        take(&mut self.user, other.user);
        take(&mut self.password, other.password);
        take(&mut self.token, other.token);
        take(&mut self.creds, other.creds);
        take(&mut self.nkey, other.nkey);
        take(&mut self.nkey_seed, other.nkey_seed);
        take(&mut self.jwt_creds, other.jwt_creds);
        take(&mut self.ca, other.ca);
        take(&mut self.cert, other.cert);
        take(&mut self.key, other.key);
        take(&mut self.inbox_prefix, other.inbox_prefix);
        take(&mut self.jetstream_domain, other.jetstream_domain);
        take(&mut self.jetstream_api_prefix, other.jetstream_api_prefix);
        take(&mut self.context, other.context);
        self.tls_first |= other.tls_first;
        self
    }

    fn has_credentials(&self) -> bool {
        self.user.is_some()
            || self.token.is_some()
            || self.creds.is_some()
            || self.nkey.is_some()
            || self.nkey_seed.is_some()
            || self.jwt_creds.is_some()
    }

    /// Checks the settings against each other, naming them as `name` does.
    pub(crate) fn check(&self, name: impl Fn(&str) -> String) -> Result<(), ConfigError> {
        let conflict = |a: &str, b: &str| {
            Err(ConfigError::new(
                ConfigErrorKind::Conflict,
                name(a),
                format!(
                    "cannot be used with {}: give one way to authenticate",
                    name(b)
                ),
            ))
        };
        if self.password.is_some() && self.user.is_none() {
            return Err(ConfigError::new(
                ConfigErrorKind::Conflict,
                name("password"),
                format!("is set but {} is not", name("user")),
            ));
        }
        let ways = [
            ("user", self.user.is_some()),
            ("token", self.token.is_some()),
            ("creds", self.creds.is_some()),
            (
                "nkey",
                (self.nkey.is_some() || self.nkey_seed.is_some()) && self.jwt_creds.is_none(),
            ),
            ("user_jwt", self.jwt_creds.is_some()),
        ];
        let set: Vec<&str> = ways.iter().filter(|(_, on)| *on).map(|(w, _)| *w).collect();
        if let [first, second, ..] = set.as_slice() {
            return conflict(second, first);
        }
        match (&self.cert, &self.key) {
            (Some(_), None) => Err(ConfigError::new(
                ConfigErrorKind::Conflict,
                name("cert"),
                format!("needs {} (the certificate's private key)", name("key")),
            )),
            (None, Some(_)) => Err(ConfigError::new(
                ConfigErrorKind::Conflict,
                name("key"),
                format!("needs {} (the client certificate)", name("cert")),
            )),
            _ => Ok(()),
        }
    }
}

/// Secrets are never shown.
impl fmt::Debug for ConnectConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |set: bool| if set { Some("<redacted>") } else { None };
        f.debug_struct("ConnectConfig")
            .field("servers", &self.servers())
            .field("context", &self.context)
            .field("user", &self.user)
            .field("password", &secret(self.password.is_some()))
            .field("token", &secret(self.token.is_some()))
            .field("creds", &self.creds)
            .field("nkey", &self.nkey)
            .field("nkey_seed", &secret(self.nkey_seed.is_some()))
            .field("user_jwt", &secret(self.jwt_creds.is_some()))
            .field("ca", &self.ca)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("tls_first", &self.tls_first)
            .field("inbox_prefix", &self.inbox_prefix)
            .field("jetstream_domain", &self.jetstream_domain)
            .field("jetstream_api_prefix", &self.jetstream_api_prefix)
            .finish()
    }
}

/// `theirs` over `mine`, when set.
fn take<T>(mine: &mut Option<T>, theirs: Option<T>) {
    if theirs.is_some() {
        *mine = theirs;
    }
}

/// `servers` if every comma-separated URL in it parses.
pub(crate) fn check_servers(setting: &str, servers: &str) -> Result<String, ConfigError> {
    match servers.to_server_addrs() {
        Ok(list) if !list.is_empty() => Ok(servers.to_owned()),
        Ok(_) => Err(ConfigError::new(
            ConfigErrorKind::InvalidValue,
            setting.to_owned(),
            "names no server".to_owned(),
        )),
        Err(error) => Err(ConfigError::new(
            ConfigErrorKind::InvalidValue,
            setting.to_owned(),
            format!("{servers:?} is not a server list: {error}"),
        )),
    }
}

/// `path` if it names a readable file.
pub(crate) fn check_file(setting: &str, path: &str) -> Result<PathBuf, ConfigError> {
    let path = expand_home(path);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => Err(ConfigError::new(
            ConfigErrorKind::MissingFile,
            setting.to_owned(),
            format!("{} is not a file", path.display()),
        )),
        Err(error) => Err(ConfigError::new(
            ConfigErrorKind::MissingFile,
            setting.to_owned(),
            format!("cannot read {}: {error}", path.display()),
        )),
    }
}

/// `~/x` as the home directory's `x`, as the NATS CLI writes paths.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests;
