//! Settings from environment variables, named as the NATS CLI names them.

use super::{check_file, check_servers, ConfigError, ConnectConfig};

/// The environment variable of each setting.
fn variable(setting: &str) -> String {
    match setting {
        "user" => "NATS_USER",
        "password" => "NATS_PASSWORD",
        "token" => "NATS_TOKEN",
        "creds" => "NATS_CREDS",
        "nkey" => "NATS_NKEY",
        "cert" => "NATS_CERT",
        "key" => "NATS_KEY",
        "ca" => "NATS_CA",
        other => return format!("the context's {other:?}"),
    }
    .to_owned()
}

impl ConnectConfig {
    /// The settings of the process environment: the NATS CLI context named by `NATS_CONTEXT`
    /// (if set), overridden by `NATS_URL` (one server or a comma-separated list),
    /// `NATS_USER` and `NATS_PASSWORD`, `NATS_TOKEN`, `NATS_CREDS` (a `.creds` file),
    /// `NATS_NKEY` (an NKey seed file, or the seed itself), `NATS_CA`, `NATS_CERT` and
    /// `NATS_KEY` (TLS files). Empty variables count as unset.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable: a URL that does not parse, a file that cannot
    /// be read, two ways to authenticate, a certificate without its key, an unknown context.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables looked up by `var`, for tests and for
    /// programs with settings of their own.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let base = match get("NATS_CONTEXT") {
            Some(name) => ConnectConfig::from_context(name.trim())?,
            None => ConnectConfig::default(),
        };
        let mut env = ConnectConfig::default();
        if let Some(url) = get("NATS_URL") {
            env.servers = Some(check_servers("NATS_URL", url.trim())?);
        }
        env.user = get("NATS_USER");
        env.password = var("NATS_PASSWORD").filter(|p| !p.is_empty());
        env.token = get("NATS_TOKEN");
        if let Some(creds) = get("NATS_CREDS") {
            env.creds = Some(check_file("NATS_CREDS", creds.trim())?);
        }
        if let Some(nkey) = get("NATS_NKEY") {
            let nkey = nkey.trim();
            if looks_like_seed(nkey) {
                env.nkey_seed = Some(nkey.to_owned());
            } else {
                env.nkey = Some(check_file("NATS_NKEY", nkey)?);
            }
        }
        for (name, slot) in [
            ("NATS_CA", &mut env.ca),
            ("NATS_CERT", &mut env.cert),
            ("NATS_KEY", &mut env.key),
        ] {
            if let Some(path) = get(name) {
                *slot = Some(check_file(name, path.trim())?);
            }
        }
        env.check(variable)?;
        let merged = base.overlaid_with(env);
        merged.check(variable)?;
        Ok(merged)
    }
}

/// An NKey seed (`S` then the key type, 58 base32 characters) rather than a path.
fn looks_like_seed(value: &str) -> bool {
    value.len() == 58
        && value.starts_with('S')
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}
