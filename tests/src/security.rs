//! `nats-server` config text for TLS: client TLS in its modes, and TLS between
//! the routes of a [`NatsCluster`](crate::NatsCluster).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::certs::TestPki;

/// How a server offers TLS to clients, for [`tls_conf`].
///
/// In every mode the server presents [`TestPki::server_cert`] (valid for
/// `localhost` and `127.0.0.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS required, no client certificate: nats-server's default behaviour.
    /// The server first sends `INFO` in plaintext with `"tls_required":true`;
    /// the client then starts the TLS handshake and sends `CONNECT` inside it.
    ServerOnly,
    /// As [`ServerOnly`](Self::ServerOnly), and the server asks for a client
    /// certificate signed by [`TestPki::ca_pem`] (`verify: true`); `INFO` also
    /// has `"tls_verify":true`. A client without one, or with one signed by
    /// another CA, fails the handshake.
    Mutual,
    /// TLS first (`handshake_first: true`, nats-server 2.10.4+): the server
    /// sends nothing until the client's TLS ClientHello and sends `INFO` only
    /// inside TLS. A client that waits for a plaintext `INFO` waits forever
    /// (until the server's TLS timeout closes the connection).
    HandshakeFirst,
    /// [`HandshakeFirst`](Self::HandshakeFirst) and [`Mutual`](Self::Mutual) at once.
    MutualHandshakeFirst,
    /// TLS first with a fallback (`handshake_first: "<ms>ms"`): the server
    /// waits that long for a ClientHello; if none comes it sends the plaintext
    /// `INFO` and goes on as in [`ServerOnly`](Self::ServerOnly).
    HandshakeFirstFallback(Duration),
    /// TLS optional (`allow_non_tls: true`): `INFO` says `"tls_available":true`
    /// instead of `tls_required`, and a client may go on in plaintext or
    /// upgrade after `INFO`.
    Optional,
}

/// The config text for a server offering TLS to clients in `mode`: a `tls { }`
/// block (and `allow_non_tls` for [`TlsMode::Optional`]), to pass to
/// [`NatsServer::spawn_with_config`](crate::NatsServer::spawn_with_config),
/// alone or with other text, or as the shared text of a
/// [`NatsCluster`](crate::NatsCluster).
///
/// The files must exist when the server starts (and restarts): keep `pki`
/// alive that long.
///
/// For [`TlsMode::Mutual`] it is:
///
/// ```text
/// tls {
///   cert_file: "/tmp/nats-pki-XXXX/server-cert.pem"
///   key_file: "/tmp/nats-pki-XXXX/server-key.pem"
///   ca_file: "/tmp/nats-pki-XXXX/ca.pem"
///   verify: true
/// }
/// ```
pub fn tls_conf(pki: &TestPki, mode: TlsMode) -> String {
    let mutual = matches!(mode, TlsMode::Mutual | TlsMode::MutualHandshakeFirst);
    let mut conf = String::new();
    if mode == TlsMode::Optional {
        conf.push_str("allow_non_tls: true\n");
    }
    conf.push_str("tls {\n");
    push_setting(&mut conf, "cert_file", &quoted_path(&pki.server_cert()));
    push_setting(&mut conf, "key_file", &quoted_path(&pki.server_key()));
    if mutual {
        push_setting(&mut conf, "ca_file", &quoted_path(&pki.ca_pem()));
        push_setting(&mut conf, "verify", "true");
    }
    match mode {
        TlsMode::HandshakeFirst | TlsMode::MutualHandshakeFirst => {
            push_setting(&mut conf, "handshake_first", "true");
        }
        TlsMode::HandshakeFirstFallback(delay) => {
            let millis = delay.as_millis().max(1);
            push_setting(&mut conf, "handshake_first", &format!("\"{millis}ms\""));
        }
        TlsMode::ServerOnly | TlsMode::Mutual | TlsMode::Optional => {}
    }
    conf.push_str("}\n");
    conf
}

/// The `tls { }` block for inside a `cluster { }` block: the routes present
/// [`TestPki::server_cert`] to each other and verify the peer's against
/// [`TestPki::ca_pem`] (`verify: true`; nats-server verifies route
/// certificates either way), dialling `127.0.0.1`, which the certificate
/// names. [`NatsCluster::spawn_with_tls`](crate::NatsCluster::spawn_with_tls)
/// puts it there; [`NatsCluster::spawn_with_cluster_config`](crate::NatsCluster::spawn_with_cluster_config)
/// takes it too.
pub fn route_tls_conf(pki: &TestPki) -> String {
    let mut conf = String::from("tls {\n");
    push_setting(&mut conf, "cert_file", &quoted_path(&pki.server_cert()));
    push_setting(&mut conf, "key_file", &quoted_path(&pki.server_key()));
    push_setting(&mut conf, "ca_file", &quoted_path(&pki.ca_pem()));
    push_setting(&mut conf, "verify", "true");
    conf.push_str("}\n");
    conf
}

/// `path` as a double-quoted config string.
pub(crate) fn quoted_path(path: &Path) -> String {
    quoted(&path.display().to_string())
}

/// `text` as a double-quoted config string, with `"` and `\` escaped.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Appends `  key: value` and a newline.
fn push_setting(conf: &mut String, key: &str, value: &str) {
    let _ = writeln!(conf, "  {key}: {value}");
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
