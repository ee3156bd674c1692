//! The global flags and how they become a connection: a NATS CLI context (`--context` or
//! `NATS_CONTEXT`), overridden by the environment (`NATS_URL`, `NATS_CREDS`, ...), overridden
//! by the flags. Every setting is checked by `nats_core::ConnectConfig`; a bad one is an error
//! naming the flag, variable or context field it came from.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use nats_core::{Client, ConfigError, ConnectConfig};

use crate::duration;
use crate::error::CliError;

/// The connection flags, accepted before or after the command.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Connection options")]
pub(crate) struct ConnectArgs {
    /// NATS server URLs, comma separated [env: NATS_URL]
    #[arg(short = 's', long = "server", value_name = "URL", global = true)]
    pub(crate) server: Option<String>,
    /// User name [env: NATS_USER]
    #[arg(long, value_name = "USER", global = true)]
    pub(crate) user: Option<String>,
    /// Password [env: NATS_PASSWORD]
    #[arg(long, value_name = "PASSWORD", global = true)]
    pub(crate) password: Option<String>,
    /// Authentication token [env: NATS_TOKEN]
    #[arg(long, value_name = "TOKEN", global = true)]
    pub(crate) token: Option<String>,
    /// User credentials file [env: NATS_CREDS]
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) creds: Option<PathBuf>,
    /// User NKey seed file [env: NATS_NKEY]
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) nkey: Option<PathBuf>,
    /// TLS client certificate [env: NATS_CERT]
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) tlscert: Option<PathBuf>,
    /// TLS client certificate's private key [env: NATS_KEY]
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) tlskey: Option<PathBuf>,
    /// TLS certificate authority chain [env: NATS_CA]
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) tlsca: Option<PathBuf>,
    /// NATS CLI context to take settings from (name or path of a context file) [env: NATS_CONTEXT]
    #[arg(long, value_name = "NAME", global = true)]
    pub(crate) context: Option<String>,
    /// How long to wait for the server and for replies, such as 500ms or 2s
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration::parse, global = true)]
    pub(crate) timeout: Duration,
}

/// Each flag and the environment variable it overrides, as `ConnectConfig` names them.
const FLAGS: [(&str, &str); 10] = [
    ("NATS_URL", "--server"),
    ("NATS_USER", "--user"),
    ("NATS_PASSWORD", "--password"),
    ("NATS_TOKEN", "--token"),
    ("NATS_CREDS", "--creds"),
    ("NATS_NKEY", "--nkey"),
    ("NATS_CERT", "--tlscert"),
    ("NATS_KEY", "--tlskey"),
    ("NATS_CA", "--tlsca"),
    ("NATS_CONTEXT", "--context"),
];

/// The variables of one way to authenticate: a flag for one drops the environment's others.
const CREDENTIALS: [&str; 5] = [
    "NATS_USER",
    "NATS_PASSWORD",
    "NATS_TOKEN",
    "NATS_CREDS",
    "NATS_NKEY",
];

/// The client certificate and its key, which come as a pair.
const CLIENT_CERT: [&str; 2] = ["NATS_CERT", "NATS_KEY"];

impl ConnectArgs {
    /// The flag's value standing for the environment variable `name`.
    fn flag(&self, name: &str) -> Option<String> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.to_string_lossy().into_owned());
        match name {
            "NATS_URL" => self.server.clone(),
            "NATS_USER" => self.user.clone(),
            "NATS_PASSWORD" => self.password.clone(),
            "NATS_TOKEN" => self.token.clone(),
            "NATS_CREDS" => path(&self.creds),
            "NATS_NKEY" => path(&self.nkey),
            "NATS_CERT" => path(&self.tlscert),
            "NATS_KEY" => path(&self.tlskey),
            "NATS_CA" => path(&self.tlsca),
            "NATS_CONTEXT" => self.context.clone(),
            _ => None,
        }
    }

    /// Whether a flag gives any of the variables `names`.
    fn any_flag(&self, names: &[&str]) -> bool {
        names.iter().any(|name| self.flag(name).is_some())
    }

    /// The settings these flags ask for, over the environment `env` (a variable's value by
    /// name), over the context `--context` or `NATS_CONTEXT` names.
    ///
    /// A flag replaces its variable; a credential flag replaces every credential of the
    /// environment (`--token` drops `NATS_USER`), and a certificate flag both certificate
    /// variables, as a context's settings are replaced by the environment's.
    pub(crate) fn config(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ConnectConfig, CliError> {
        // The flags alone first, so that an error in one names the flag.
        ConnectConfig::from_vars(|name| match name {
            "NATS_CONTEXT" => None,
            _ => self.flag(name),
        })
        .map_err(|error| CliError::Setting(named_as_flags(&error)))?;
        let credentials = self.any_flag(&CREDENTIALS);
        let client_cert = self.any_flag(&CLIENT_CERT);
        ConnectConfig::from_vars(|name| {
            let flag = self.flag(name);
            let replaced = (credentials && CREDENTIALS.contains(&name))
                || (client_cert && CLIENT_CERT.contains(&name));
            if flag.is_some() || replaced {
                flag
            } else {
                env(name)
            }
        })
        .map_err(|error| CliError::Setting(error.to_string()))
    }

    /// Connects with the settings of [`config`](Self::config) over the process environment;
    /// `--timeout` bounds the connection, requests and flushes. The settings come back too,
    /// for the JetStream domain or API prefix a context may name.
    pub(crate) async fn connect(&self) -> Result<(Client, ConnectConfig), CliError> {
        let config = self.config(|name| std::env::var(name).ok())?;
        let servers = config.servers().to_owned();
        let client = config
            .options()
            .name("nats-rs")
            .connect_timeout(self.timeout)
            .request_timeout(self.timeout)
            .flush_timeout(Some(self.timeout))
            .connect(&servers)
            .await
            .map_err(|source| CliError::Connect { servers, source })?;
        Ok((client, config))
    }
}

/// The message of `error`, a check of the flags' values, with each variable named as the
/// flag that gave it (`NATS_URL: ...` is `--server: ...`).
fn named_as_flags(error: &ConfigError) -> String {
    FLAGS
        .iter()
        .fold(error.to_string(), |text, (variable, flag)| {
            text.replace(variable, flag)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn setting_error(result: Result<ConnectConfig, CliError>) -> String {
        match result {
            Err(CliError::Setting(message)) => message,
            other => panic!("not a setting error: {other:?}"),
        }
    }

    #[test]
    fn flags_override_the_environment() {
        let args = ConnectArgs {
            server: Some("nats://flag:4222".into()),
            ..ConnectArgs::default()
        };
        let config = args
            .config(vars(&[("NATS_URL", "nats://env:4222")]))
            .expect("config");
        assert_eq!(config.servers(), "nats://flag:4222");
        let config = ConnectArgs::default()
            .config(vars(&[("NATS_URL", "nats://env:4222")]))
            .expect("config");
        assert_eq!(config.servers(), "nats://env:4222");
        let config = ConnectArgs::default().config(vars(&[])).expect("config");
        assert_eq!(config.servers(), nats_core::DEFAULT_SERVER);
    }

    #[test]
    fn a_credential_flag_replaces_the_environments_credentials() {
        let args = ConnectArgs {
            token: Some("s3cret".into()),
            ..ConnectArgs::default()
        };
        // NATS_USER with --token would be two ways to authenticate; the flag wins.
        let env = vars(&[("NATS_USER", "env-user"), ("NATS_PASSWORD", "pw")]);
        let config = args.config(env).expect("config");
        let shown = format!("{config:?}");
        assert!(shown.contains("user: None"), "{shown}");
        assert!(shown.contains("token: Some(\"<redacted>\")"), "{shown}");
    }

    #[test]
    fn a_bad_flag_is_named_as_the_flag() {
        let args = ConnectArgs {
            server: Some("nats://:x".into()),
            ..ConnectArgs::default()
        };
        let message = setting_error(args.config(vars(&[])));
        assert!(message.starts_with("--server: "), "{message}");
        assert!(!message.contains("NATS_URL"), "{message}");

        let args = ConnectArgs {
            user: Some("u".into()),
            token: Some("t".into()),
            ..ConnectArgs::default()
        };
        let message = setting_error(args.config(vars(&[])));
        assert_eq!(
            message,
            "--token: cannot be used with --user: give one way to authenticate"
        );

        let args = ConnectArgs {
            creds: Some("/nonexistent/user.creds".into()),
            ..ConnectArgs::default()
        };
        let message = setting_error(args.config(vars(&[])));
        assert!(message.starts_with("--creds: cannot read"), "{message}");
    }

    #[test]
    fn a_bad_variable_is_named_as_the_variable() {
        let message =
            setting_error(ConnectArgs::default().config(vars(&[("NATS_URL", "nats://:x")])));
        assert!(message.starts_with("NATS_URL: "), "{message}");
        // Unless a flag replaces it.
        let args = ConnectArgs {
            server: Some("nats://127.0.0.1:4222".into()),
            ..ConnectArgs::default()
        };
        args.config(vars(&[("NATS_URL", "nats://:x")]))
            .expect("the flag replaces the bad variable");
    }

    #[test]
    fn an_unknown_context_is_an_error_naming_it() {
        let args = ConnectArgs {
            context: Some("/nonexistent/dir/ctx.json".into()),
            ..ConnectArgs::default()
        };
        let message = setting_error(args.config(vars(&[])));
        assert!(message.contains("context \"ctx\""), "{message}");
    }
}
