use std::collections::HashMap;
use std::path::Path;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

fn error(pairs: &[(&str, &str)]) -> ConfigError {
    ConnectConfig::from_vars(vars(pairs)).expect_err("must be refused")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn nothing_set_is_the_local_server() {
    let config = ConnectConfig::from_vars(vars(&[])).expect("defaults");
    assert_eq!(config.servers(), DEFAULT_SERVER);
    assert!(config.context().is_none());
    // Empty variables count as unset.
    let config = ConnectConfig::from_vars(vars(&[("NATS_URL", " "), ("NATS_USER", "")]))
        .expect("empty is unset");
    assert_eq!(config.servers(), DEFAULT_SERVER);
    assert!(config.user.is_none());
}

#[test]
fn server_lists_are_checked_and_named() {
    let config = ConnectConfig::from_vars(vars(&[("NATS_URL", "nats://a:4222, tls://b:4223")]))
        .expect("list");
    assert_eq!(config.servers(), "nats://a:4222, tls://b:4223");
    let bad = error(&[("NATS_URL", "nats://a:4222,nats://b:notaport")]);
    assert_eq!(
        (bad.kind(), bad.setting()),
        (ConfigErrorKind::InvalidValue, "NATS_URL")
    );
    assert!(bad.to_string().starts_with("NATS_URL: "), "{bad}");
    let none = error(&[("NATS_URL", ",,")]);
    assert_eq!(none.setting(), "NATS_URL");
}

#[test]
fn files_must_be_readable() {
    for name in [
        "NATS_CREDS",
        "NATS_CA",
        "NATS_CERT",
        "NATS_KEY",
        "NATS_NKEY",
    ] {
        let bad = error(&[(name, "/nonexistent/file.pem")]);
        assert_eq!(
            (bad.kind(), bad.setting()),
            (ConfigErrorKind::MissingFile, name)
        );
        assert!(bad.to_string().contains("/nonexistent/file.pem"), "{bad}");
    }
    let dir = tempfile::tempdir().expect("dir");
    let creds = write(dir.path(), "app.creds", "creds");
    let config = ConnectConfig::from_vars(vars(&[("NATS_CREDS", &creds)])).expect("creds");
    assert_eq!(config.creds.as_deref(), Some(Path::new(&creds)));
    let bad = error(&[("NATS_CREDS", &dir.path().display().to_string())]);
    assert!(bad.to_string().contains("is not a file"), "{bad}");
}

#[test]
fn settings_that_contradict_each_other_are_refused_by_name() {
    let bad = error(&[("NATS_USER", "u"), ("NATS_TOKEN", "t")]);
    assert_eq!(
        (bad.kind(), bad.setting()),
        (ConfigErrorKind::Conflict, "NATS_TOKEN")
    );
    let bad = error(&[("NATS_PASSWORD", "p")]);
    assert_eq!(bad.setting(), "NATS_PASSWORD");
    assert!(bad.to_string().contains("NATS_USER"), "{bad}");
    let dir = tempfile::tempdir().expect("dir");
    let cert = write(dir.path(), "cert.pem", "x");
    let bad = error(&[("NATS_CERT", &cert)]);
    assert_eq!(bad.setting(), "NATS_CERT");
    assert!(bad.to_string().contains("NATS_KEY"), "{bad}");
    let bad = error(&[("NATS_KEY", &cert)]);
    assert_eq!(bad.setting(), "NATS_KEY");
}

#[test]
fn an_inline_seed_is_not_taken_for_a_path() {
    let seed = "SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU";
    let config = ConnectConfig::from_vars(vars(&[("NATS_NKEY", seed)])).expect("seed");
    assert_eq!(config.nkey_seed.as_deref(), Some(seed));
    assert!(
        !format!("{config:?}").contains(seed),
        "the seed is never shown"
    );
}

#[test]
fn secrets_are_never_shown() {
    let config = ConnectConfig::from_vars(vars(&[
        ("NATS_USER", "alice"),
        ("NATS_PASSWORD", "s3cret-pw"),
    ]))
    .expect("user");
    let shown = format!("{config:?}");
    assert!(
        shown.contains("alice") && !shown.contains("s3cret-pw"),
        "{shown}"
    );
    let config = ConnectConfig::from_vars(vars(&[("NATS_TOKEN", "tok-123")])).expect("token");
    assert!(!format!("{config:?}").contains("tok-123"));
}

#[test]
fn a_context_file_gives_its_settings_and_the_environment_wins() {
    let dir = tempfile::tempdir().expect("dir");
    let creds = write(dir.path(), "prod.creds", "creds");
    let ca = write(dir.path(), "ca.pem", "ca");
    let context = write(
        dir.path(),
        "prod.json",
        &format!(
            r#"{{"description":"production","url":"tls://nats-1:4222,tls://nats-2:4222",
                "token":"ctx-token","ca":"{ca}","tls_first":true,"jetstream_domain":"hub",
                "inbox_prefix":"_INBOX_prod","color_scheme":"","unknown_field":1}}"#
        ),
    );
    let config = ConnectConfig::from_context_file(&context).expect("context");
    assert_eq!(config.servers(), "tls://nats-1:4222,tls://nats-2:4222");
    assert_eq!(config.context(), Some("prod"));
    assert_eq!(config.jetstream_domain(), Some("hub"));
    assert!(config.tls_first);
    assert_eq!(config.token.as_deref(), Some("ctx-token"));

    // NATS_CONTEXT selects it (a path here), NATS_URL and NATS_CREDS override it: the
    // context's token goes with its credentials.
    let config = ConnectConfig::from_vars(vars(&[
        ("NATS_CONTEXT", &context),
        ("NATS_URL", "nats://override:4222"),
        ("NATS_CREDS", &creds),
    ]))
    .expect("overlay");
    assert_eq!(config.servers(), "nats://override:4222");
    assert!(config.token.is_none());
    assert_eq!(config.creds.as_deref(), Some(Path::new(&creds)));
    assert_eq!(config.ca.as_deref(), Some(Path::new(&ca)));
}

#[test]
fn context_fields_that_cannot_be_used_are_named() {
    let dir = tempfile::tempdir().expect("dir");
    let cases = [
        (
            r#"{"nsc":"nsc://op/acct/user"}"#,
            ConfigErrorKind::Unsupported,
            "\"nsc\"",
        ),
        (
            r#"{"socks_proxy":"socks5://p:1080"}"#,
            ConfigErrorKind::Unsupported,
            "\"socks_proxy\"",
        ),
        (
            r#"{"url":"nats://a:b:c"}"#,
            ConfigErrorKind::InvalidValue,
            "\"url\"",
        ),
        (
            r#"{"creds":"/nonexistent.creds"}"#,
            ConfigErrorKind::MissingFile,
            "\"creds\"",
        ),
        (
            r#"{"user_jwt":"eyJ0"}"#,
            ConfigErrorKind::Conflict,
            "\"user_jwt\"",
        ),
        (
            r#"{"user":"u","token":"t"}"#,
            ConfigErrorKind::Conflict,
            "\"token\"",
        ),
        (
            r#"{"url": 7}"#,
            ConfigErrorKind::InvalidContext,
            "context \"case\"",
        ),
        (
            "not json",
            ConfigErrorKind::InvalidContext,
            "context \"case\"",
        ),
    ];
    for (text, kind, named) in cases {
        let path = write(dir.path(), "case.json", text);
        let error = ConnectConfig::from_context_file(&path).expect_err(text);
        assert_eq!(error.kind(), kind, "{text}: {error}");
        assert!(error.setting().contains(named), "{text}: {error}");
    }
    let missing =
        ConnectConfig::from_context_file(dir.path().join("absent.json")).expect_err("absent");
    assert_eq!(missing.kind(), ConfigErrorKind::ContextNotFound);
}

#[test]
fn a_user_jwt_is_signed_by_the_context_nkey() {
    let dir = tempfile::tempdir().expect("dir");
    let seed = "SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU";
    let nkey = write(dir.path(), "user.nk", &format!("{seed}\n"));
    let path = write(
        dir.path(),
        "jwt.json",
        &format!(r#"{{"user_jwt":"eyJ0eXAiOiJKV1QifQ.payload.sig","nkey":"{nkey}"}}"#),
    );
    let config = ConnectConfig::from_context_file(&path).expect("jwt");
    let creds = config.jwt_creds.as_deref().expect("creds text");
    assert!(creds.contains("eyJ0eXAiOiJKV1QifQ.payload.sig") && creds.contains(seed));
    assert!(
        crate::auth::parse_creds(creds).is_ok(),
        "the creds parse as .creds do"
    );
}
