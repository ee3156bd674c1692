//! The binary's credentials and TLS settings, from flags and from the environment, against
//! servers that require them.

mod support;

use std::path::Path;
use std::process::Command;

use nats_tests::{tls_conf, NatsServer, NkeyUser, OperatorMode, TestPki, TlsMode};
use support::{nats_rs, Outcome, Running};

/// Publishes one message to `server` with the settings `setup` gives the binary.
fn publish(server: &NatsServer, setup: impl FnOnce(&mut Command)) -> Outcome {
    let config = tempfile::TempDir::new().expect("a config directory");
    let mut command = nats_rs(config.path());
    command.args(["--server", &server.url()]);
    setup(&mut command);
    command.args(["pub", "auth.test", "hello"]);
    Running::start(command).finish()
}

fn assert_published(outcome: Outcome) {
    let outcome = outcome.success();
    assert!(
        outcome.stderr.contains("published 1 message"),
        "{outcome:#?}"
    );
}

fn assert_fails_with(outcome: &Outcome, text: &str) {
    assert_eq!(outcome.code(), Some(1), "{outcome:#?}");
    assert!(
        outcome.stderr.starts_with("nats-rs: ") && outcome.stderr.contains(text),
        "no {text:?} in {outcome:#?}"
    );
}

#[test]
fn user_and_password_from_flags_or_the_environment() {
    let server = NatsServer::spawn_with_args(&["--user", "ann", "--pass", "s3cret"]);
    assert_published(publish(&server, |c| {
        c.args(["--user", "ann", "--password", "s3cret"]);
    }));
    assert_published(publish(&server, |c| {
        c.env("NATS_USER", "ann").env("NATS_PASSWORD", "s3cret");
    }));
    // A credential flag replaces every credential of the environment.
    assert_published(publish(&server, |c| {
        c.args(["--user", "ann", "--password", "s3cret"])
            .env("NATS_TOKEN", "not-this");
    }));

    let refused = publish(&server, |c| {
        c.args(["--user", "ann", "--password", "wrong"]);
    });
    assert_fails_with(&refused, "authorization violation");
    assert!(
        !refused.stderr.contains("wrong"),
        "no secret shown: {refused:#?}"
    );
    assert_fails_with(&publish(&server, |_| {}), "authorization violation");
}

#[test]
fn a_token_from_the_flag() {
    let server = NatsServer::spawn_with_args(&["--auth", "tok-3nigma"]);
    assert_published(publish(&server, |c| {
        c.args(["--token", "tok-3nigma"]);
    }));
    let both = publish(&server, |c| {
        c.args(["--token", "tok-3nigma", "--user", "ann"]);
    });
    assert_fails_with(&both, "--token: cannot be used with --user");
}

#[test]
fn an_nkey_seed_file_and_a_creds_file() {
    let user = NkeyUser::generate();
    let server = NatsServer::spawn_with_config(&user.server_conf());
    let seed_file = user.seed_file();
    assert_published(publish(&server, |c| {
        c.arg("--nkey").arg(&seed_file);
    }));
    assert_published(publish(&server, |c| {
        c.env("NATS_NKEY", &seed_file);
    }));

    let auth = OperatorMode::generate();
    let server = NatsServer::spawn_with_config(&auth.server_conf());
    assert_published(publish(&server, |c| {
        c.arg("--creds").arg(auth.creds_path());
    }));
    let missing = publish(&server, |c| {
        c.args(["--creds", "/nonexistent/user.creds"]);
    });
    assert_fails_with(&missing, "--creds: cannot read /nonexistent/user.creds");
}

#[test]
fn tls_with_a_ca_and_a_client_certificate() {
    let pki = TestPki::generate();
    let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::Mutual));
    let files = |c: &mut Command, ca: &Path, cert: &Path, key: &Path| {
        c.arg("--tlsca").arg(ca);
        c.arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
    };
    assert_published(publish(&server, |c| {
        files(c, &pki.ca_pem(), &pki.client_cert(), &pki.client_key());
    }));
    assert_published(publish(&server, |c| {
        c.env("NATS_CA", pki.ca_pem())
            .env("NATS_CERT", pki.client_cert())
            .env("NATS_KEY", pki.client_key());
    }));

    // Without the CA the server's certificate is not trusted.
    let untrusted = publish(&server, |c| {
        c.arg("--tlscert").arg(pki.client_cert());
        c.arg("--tlskey").arg(pki.client_key());
    });
    assert_fails_with(&untrusted, "TLS");
    let half = publish(&server, |c| {
        c.arg("--tlsca").arg(pki.ca_pem());
        c.arg("--tlscert").arg(pki.client_cert());
    });
    assert_fails_with(&half, "--tlscert: needs --tlskey");
}
