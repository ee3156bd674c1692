//! Settings from a NATS CLI context: `$XDG_CONFIG_HOME/nats/context/NAME.json` (by default
//! `~/.config/nats/context/NAME.json`), in the format `nats context save` writes, and the
//! selected context named by `context.txt` beside that directory.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{check_file, check_servers, ConfigError, ConfigErrorKind, ConnectConfig};

/// The fields of a context file that a client uses or must refuse. Others (`description`,
/// `color_scheme`, ...) are ignored.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ContextFile {
    url: String,
    user: String,
    password: String,
    token: String,
    creds: String,
    nkey: String,
    user_jwt: String,
    cert: String,
    key: String,
    ca: String,
    nsc: String,
    socks_proxy: String,
    windows_cert_store: String,
    jetstream_domain: String,
    jetstream_api_prefix: String,
    inbox_prefix: String,
    tls_first: bool,
}

/// The directory of the NATS CLI's contexts: `$XDG_CONFIG_HOME/nats/context`, else
/// `$HOME/.config/nats/context`; `None` when neither variable is set.
pub fn context_dir() -> Option<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(config) => PathBuf::from(config),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(config.join("nats").join("context"))
}

impl ConnectConfig {
    /// The settings of the NATS CLI context `name` (a file of [`context_dir`]), or of the
    /// context file at `name` when it is a path (contains `/` or ends in `.json`). An empty
    /// name is the selected context (`context.txt`).
    ///
    /// # Errors
    /// [`ConfigErrorKind::ContextNotFound`] for a context that does not exist, and a
    /// [`ConfigError`] naming the field for a value that cannot be used (a file that cannot
    /// be read, an `nsc` lookup, a SOCKS proxy, ...).
    pub fn from_context(name: &str) -> Result<Self, ConfigError> {
        if name.contains('/') || name.ends_with(".json") {
            return Self::from_context_file(name);
        }
        let dir = context_dir()
            .ok_or_else(|| not_found(name, "neither XDG_CONFIG_HOME nor HOME is set".to_owned()))?;
        let name = if name.is_empty() {
            selected(&dir)?
        } else {
            name.to_owned()
        };
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(not_found(&name, "not a context name".to_owned()));
        }
        let path = dir.join(format!("{name}.json"));
        if !path.is_file() {
            return Err(not_found(&name, format!("no file {}", path.display())));
        }
        Self::from_context_file(path)
    }

    /// The settings of the context file at `path`.
    ///
    /// # Errors
    /// As [`from_context`](Self::from_context).
    pub fn from_context_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).map_err(|error| {
            let kind = if error.kind() == std::io::ErrorKind::NotFound {
                ConfigErrorKind::ContextNotFound
            } else {
                ConfigErrorKind::InvalidContext
            };
            ConfigError::new(
                kind,
                format!("context {name:?}"),
                format!("cannot read {}: {error}", path.display()),
            )
        })?;
        let file: ContextFile = serde_json::from_str(&text).map_err(|error| {
            ConfigError::new(
                ConfigErrorKind::InvalidContext,
                format!("context {name:?} ({})", path.display()),
                format!("not a NATS CLI context: {error}"),
            )
        })?;
        let field =
            |field: &str| format!("field {field:?} of context {name:?} ({})", path.display());
        let mut config = from_file(file, &field)?;
        config.check(field)?;
        config.context = Some(name);
        Ok(config)
    }
}

/// The settings of `file`, each checked and named by `field`.
fn from_file(
    file: ContextFile,
    field: &dyn Fn(&str) -> String,
) -> Result<ConnectConfig, ConfigError> {
    for (name, value) in [
        ("nsc", &file.nsc),
        ("socks_proxy", &file.socks_proxy),
        ("windows_cert_store", &file.windows_cert_store),
    ] {
        if !value.trim().is_empty() {
            return Err(ConfigError::new(
                ConfigErrorKind::Unsupported,
                field(name),
                "is not supported by this client; use `creds`, `nkey` or `user_jwt` instead of \
                 `nsc`, and a direct connection instead of a proxy"
                    .to_owned(),
            ));
        }
    }
    let set = |value: String| Some(value).filter(|v| !v.trim().is_empty());
    let file_at = |name: &str, value: &str| -> Result<Option<PathBuf>, ConfigError> {
        match value.trim() {
            "" => Ok(None),
            path => check_file(&field(name), path).map(Some),
        }
    };
    let mut config = ConnectConfig {
        servers: None,
        user: set(file.user),
        password: set(file.password),
        token: set(file.token),
        creds: file_at("creds", &file.creds)?,
        nkey: file_at("nkey", &file.nkey)?,
        ca: file_at("ca", &file.ca)?,
        cert: file_at("cert", &file.cert)?,
        key: file_at("key", &file.key)?,
        tls_first: file.tls_first,
        inbox_prefix: set(file.inbox_prefix),
        jetstream_domain: set(file.jetstream_domain),
        jetstream_api_prefix: set(file.jetstream_api_prefix),
        ..ConnectConfig::default()
    };
    if let Some(url) = set(file.url) {
        config.servers = Some(check_servers(&field("url"), url.trim())?);
    }
    if let Some(jwt) = set(file.user_jwt) {
        let Some(nkey) = &config.nkey else {
            return Err(ConfigError::new(
                ConfigErrorKind::Conflict,
                field("user_jwt"),
                format!("needs {} (the seed that signs for the JWT)", field("nkey")),
            ));
        };
        let seed = std::fs::read_to_string(nkey).map_err(|error| {
            ConfigError::new(
                ConfigErrorKind::MissingFile,
                field("nkey"),
                format!("cannot read {}: {error}", nkey.display()),
            )
        })?;
        config.jwt_creds = Some(creds_text(jwt.trim(), seed.trim()));
    }
    Ok(config)
}

/// A `.creds` document holding `jwt` and `seed`, as `nsc` writes them.
fn creds_text(jwt: &str, seed: &str) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
    )
}

/// The selected context: the name in `context.txt` beside the contexts' directory.
fn selected(dir: &Path) -> Result<String, ConfigError> {
    let file = dir
        .parent()
        .map(|p| p.join("context.txt"))
        .unwrap_or_default();
    std::fs::read_to_string(&file)
        .map(|name| name.trim().to_owned())
        .map_err(|error| {
            not_found(
                "",
                format!("no selected context ({}: {error})", file.display()),
            )
        })
}

fn not_found(name: &str, why: String) -> ConfigError {
    ConfigError::new(
        ConfigErrorKind::ContextNotFound,
        format!("context {name:?}"),
        why,
    )
}
