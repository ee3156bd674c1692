//! Checks the harness's TLS and authentication helpers against real servers:
//! raw TCP for what a server sends first, and nats-py (when the workspace's
//! Python has it) for whether the certificates, JWTs and NKeys really work.

use std::io::{BufRead, BufReader, ErrorKind, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use nats_tests::{
    decode_claims, route_tls_conf, tls_conf, NatsCluster, NatsServer, NkeyUser, OperatorMode,
    PkiFile, TestPki, TlsMode, UserOptions,
};

/// How long a python check may run.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to `addr` and returns the first line the server sends.
fn first_line(addr: &str) -> String {
    let stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect {addr}: {err}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set_read_timeout");
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .unwrap_or_else(|err| panic!("read from {addr}: {err}"));
    line
}

/// The JSON of an `INFO` line.
fn info_json(line: &str) -> serde_json::Value {
    let json = line
        .strip_prefix("INFO ")
        .unwrap_or_else(|| panic!("not an INFO line: {line:?}"));
    serde_json::from_str(json.trim_end()).unwrap_or_else(|err| panic!("bad INFO {line:?}: {err}"))
}

/// What a plaintext connection to `addr` receives within `wait`.
fn bytes_within(addr: &str, wait: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect {addr}: {err}"));
    stream
        .set_read_timeout(Some(wait))
        .expect("set_read_timeout");
    let mut buf = vec![0; 4096];
    match stream.read(&mut buf) {
        Ok(n) => buf[..n].to_vec(),
        Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Vec::new(),
        Err(err) => panic!("read from {addr}: {err}"),
    }
}

/// Whether `line` is the `TLS handshake error` (`EOF`, or `connection reset by
/// peer`) that every plaintext connection which closes without a handshake
/// causes on a TLS server: the harness's own readiness probe and the raw
/// connections here.
fn is_probe_error(line: &str) -> bool {
    line.contains("TLS handshake error: ")
        && (line.ends_with("EOF") || line.ends_with("connection reset by peer"))
}

/// The log lines at error level, less [probe errors](is_probe_error).
fn error_lines(server: &NatsServer) -> Vec<String> {
    server
        .logs()
        .lines()
        .filter(|line| line.contains("[ERR]") || line.contains("[FTL]"))
        .filter(|line| !is_probe_error(line))
        .map(str::to_owned)
        .collect()
}

#[test]
fn pki_files_are_written_as_pem() {
    let pki = TestPki::generate();
    for file in PkiFile::ALL {
        let text = std::fs::read_to_string(pki.path(file)).expect("PEM file");
        assert_eq!(text, pki.pem(file));
        let label = if file.file_name().contains("key") {
            "-----BEGIN PRIVATE KEY-----"
        } else {
            "-----BEGIN CERTIFICATE-----"
        };
        assert!(text.starts_with(label), "{file:?}: {text}");
    }
    assert_eq!(pki.ca_pem(), pki.dir().join("ca.pem"));
    assert_ne!(pki.pem(PkiFile::Ca), pki.pem(PkiFile::OtherCa));
    let dir = pki.dir().to_path_buf();
    drop(pki);
    assert!(!dir.exists(), "the certificates outlive the TestPki");
}

#[test]
fn tls_server_says_tls_required_in_plaintext_info() {
    let pki = TestPki::generate();
    let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::ServerOnly));
    let info = info_json(&first_line(&server.host_port()));
    assert_eq!(info["tls_required"], true, "{info}");
    assert!(info.get("tls_verify").is_none(), "{info}");
    assert!(error_lines(&server).is_empty(), "{}", server.logs());
}

#[test]
fn mutual_tls_server_says_tls_verify() {
    let pki = TestPki::generate();
    let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::Mutual));
    let info = info_json(&first_line(&server.host_port()));
    assert_eq!(info["tls_required"], true, "{info}");
    assert_eq!(info["tls_verify"], true, "{info}");
}

#[test]
fn handshake_first_server_sends_nothing_in_plaintext() {
    let pki = TestPki::generate();
    for mode in [TlsMode::HandshakeFirst, TlsMode::MutualHandshakeFirst] {
        let server = NatsServer::spawn_with_config(&tls_conf(&pki, mode));
        let got = bytes_within(&server.host_port(), Duration::from_millis(500));
        assert!(
            got.is_empty(),
            "{mode:?}: got {:?} before a ClientHello",
            String::from_utf8_lossy(&got)
        );
        assert!(error_lines(&server).is_empty(), "{}", server.logs());
    }
}

#[test]
fn handshake_first_fallback_sends_info_after_the_delay() {
    let pki = TestPki::generate();
    let delay = Duration::from_millis(300);
    let server =
        NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::HandshakeFirstFallback(delay)));
    let started = Instant::now();
    let line = first_line(&server.host_port());
    let waited = started.elapsed();
    assert!(
        waited >= delay - Duration::from_millis(50),
        "INFO after {waited:?}"
    );
    let info = info_json(&line);
    assert_eq!(info["tls_required"], true, "{info}");
}

#[test]
fn optional_tls_server_says_tls_available() {
    let pki = TestPki::generate();
    let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::Optional));
    let info = info_json(&first_line(&server.host_port()));
    assert_eq!(info["tls_available"], true, "{info}");
    assert!(info.get("tls_required").is_none(), "{info}");
}

#[test]
fn cluster_routes_come_up_over_tls() {
    let pki = TestPki::generate();
    let mut cluster = NatsCluster::spawn_with_tls(2, &pki, Some(TlsMode::ServerOnly), true);
    for node in cluster.nodes() {
        let info = info_json(&first_line(&node.host_port()));
        assert_eq!(info["tls_required"], true, "{info}");
        // Node 0 starts with a route to port 1, where nothing listens.
        let errors: Vec<String> = error_lines(node)
            .into_iter()
            .filter(|line| !line.contains("dial tcp 127.0.0.1:1: connect: connection refused"))
            .collect();
        assert!(errors.is_empty(), "{}", node.logs());
        let conf = std::fs::read_to_string(node.store_dir().join("nats-server.conf"))
            .expect("node config");
        assert!(conf.contains("cluster {"), "{conf}");
        assert!(
            conf.contains(&format!("    ca_file: \"{}\"", pki.ca_pem().display())),
            "{conf}"
        );
    }
    // With TLS, the route listener sends nothing before the TLS handshake
    // (a plain one greets with INFO at once): the routes are TLS first.
    let route_port = cluster.node(0).cluster_port().expect("route port");
    let got = bytes_within(
        &format!("127.0.0.1:{route_port}"),
        Duration::from_millis(500),
    );
    assert!(
        got.is_empty(),
        "route sent {:?} before a ClientHello",
        String::from_utf8_lossy(&got)
    );
    let connz = cluster.node(0).monitor_json("/connz");
    assert!(connz["connections"].is_array(), "{connz}");
    // A restarted node rejoins with the pinned config, TLS included.
    cluster.restart(1);
    cluster.wait_for_routes();
    assert!(route_tls_conf(&pki).contains("verify: true"));
}

#[test]
fn operator_mode_server_starts_and_sends_a_nonce() {
    let auth = OperatorMode::generate();
    let server = NatsServer::spawn_with_config(&auth.server_conf());
    let info = info_json(&first_line(&server.host_port()));
    assert!(
        info["nonce"]
            .as_str()
            .is_some_and(|nonce| !nonce.is_empty()),
        "{info}"
    );
    assert_eq!(info["auth_required"], true, "{info}");
    assert!(error_lines(&server).is_empty(), "{}", server.logs());
    assert!(
        server.logs().contains("Trusted Operators"),
        "{}",
        server.logs()
    );
    let creds = std::fs::read_to_string(auth.creds_path()).expect("creds file");
    assert_eq!(creds, auth.creds_text());
    assert!(creds.contains(auth.user_jwt()) && creds.contains(auth.user_seed()));
    assert_eq!(
        decode_claims(auth.user_jwt())["sub"],
        auth.user_public_key()
    );
}

#[test]
fn nkey_server_starts_and_sends_a_nonce() {
    let user = NkeyUser::generate();
    let server = NatsServer::spawn_with_config(&user.server_conf());
    let info = info_json(&first_line(&server.host_port()));
    assert!(info["nonce"].as_str().is_some(), "{info}");
    assert_eq!(info["auth_required"], true, "{info}");
    let seed = std::fs::read_to_string(user.seed_file()).expect("seed file");
    assert_eq!(seed.trim_end(), user.seed());
    assert!(user.seed().starts_with("SU") && user.public_key().starts_with('U'));
}

// nats-py checks: they prove that real clients accept what the harness makes.

/// A nats-py client: connects with the options in argv[1] (JSON), round-trips
/// one message through a subscription, and prints `ok`, or `error: ...` and
/// exits 1.
const PY_CLIENT: &str = r#"
import asyncio, json, ssl, sys
import nats

async def main(opts):
    kwargs = dict(servers=[opts["url"]], allow_reconnect=False, connect_timeout=3,
                  max_reconnect_attempts=0)
    async def quiet(_err):
        pass
    kwargs["error_cb"] = quiet
    if "ca" in opts:
        ctx = ssl.create_default_context(cafile=opts["ca"])
        if "cert" in opts:
            ctx.load_cert_chain(opts["cert"], opts["key"])
        kwargs["tls"] = ctx
        if opts.get("handshake_first"):
            kwargs["tls_handshake_first"] = True
    if "creds" in opts:
        kwargs["user_credentials"] = opts["creds"]
    if "seed" in opts:
        kwargs["nkeys_seed"] = opts["seed"]
    nc = await nats.connect(**kwargs)
    sub = await nc.subscribe("harness.check")
    await nc.publish("harness.check", b"hello")
    msg = await sub.next_msg(timeout=3)
    assert msg.data == b"hello", msg.data
    await nc.close()

try:
    asyncio.run(asyncio.wait_for(main(json.loads(sys.argv[1])), 15))
    print("ok")
except BaseException as err:
    print("error:", type(err).__name__, err)
    sys.exit(1)
"#;

/// The workspace's Python, if it has nats-py (and `nkeys`, if `with_nkeys`).
fn python(with_nkeys: bool) -> Option<PathBuf> {
    let python = std::env::var_os("NATS_PY_PYTHON")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python"));
    let import = if with_nkeys {
        "import nats, nkeys"
    } else {
        "import nats"
    };
    let ok = Command::new(&python)
        .args(["-c", import])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        eprintln!(
            "skipped: {} cannot `{import}` (./scripts/install-nats-server.sh \
             --with-python-peers, and `pip install nkeys` for the NKey checks)",
            python.display()
        );
        return None;
    }
    Some(python)
}

/// Runs [`PY_CLIENT`] with `opts` and returns whether it succeeded, and its output.
fn py_client(python: &Path, opts: &serde_json::Value) -> (bool, String) {
    let mut child = Command::new(python)
        .args(["-c", PY_CLIENT, &opts.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", python.display()));
    let deadline = Instant::now() + PYTHON_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the nats-py client did not finish within {PYTHON_TIMEOUT:?}: {opts}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut out);
    }
    (status.success() && out.starts_with("ok"), out)
}

/// Asserts that the nats-py client does (`works`) or does not get through.
fn expect_py(python: &Path, what: &str, opts: serde_json::Value, works: bool, server: &NatsServer) {
    let (ok, out) = py_client(python, &opts);
    eprintln!("{what}: {}", out.trim_end());
    assert_eq!(
        ok,
        works,
        "{what}: nats-py {} ({opts}):\n{out}\nserver log:\n{}",
        if ok { "got through" } else { "failed" },
        server.logs()
    );
}

fn path_str(path: PathBuf) -> String {
    path.display().to_string()
}

#[test]
fn nats_py_logs_in_with_the_creds() {
    let Some(python) = python(true) else { return };
    let auth = OperatorMode::generate();
    let server = NatsServer::spawn_with_config(&auth.server_conf());
    let url = server.url();
    let creds = |path: PathBuf| serde_json::json!({ "url": url, "creds": path_str(path) });

    expect_py(&python, "creds", creds(auth.creds_path()), true, &server);

    let stranger = auth.issue_unknown_account_user("stranger");
    let path = auth.write_creds(&stranger, "stranger.creds");
    expect_py(&python, "unknown account", creds(path), false, &server);

    let expired = UserOptions {
        expires: Some(SystemTime::now() - Duration::from_secs(60)),
        ..UserOptions::default()
    };
    let late = auth.issue_user("late", &expired);
    let path = auth.write_creds(&late, "late.creds");
    expect_py(&python, "expired JWT", creds(path), false, &server);

    // A user who may not subscribe to the subject cannot round-trip on it.
    let narrow = UserOptions {
        sub_deny: vec!["harness.>".to_owned()],
        ..UserOptions::default()
    };
    let narrow = auth.issue_user("narrow", &narrow);
    let path = auth.write_creds(&narrow, "narrow.creds");
    expect_py(&python, "denied subscribe", creds(path), false, &server);
    assert!(
        server.logs().contains("Subscription Violation"),
        "{}",
        server.logs()
    );
}

#[test]
fn nats_py_logs_in_with_the_nkey_seed() {
    let Some(python) = python(true) else { return };
    let user = NkeyUser::generate();
    let server = NatsServer::spawn_with_config(&user.server_conf());
    let opts = serde_json::json!({ "url": server.url(), "seed": path_str(user.seed_file()) });
    expect_py(&python, "nkey seed", opts, true, &server);

    let other = NkeyUser::generate();
    let opts = serde_json::json!({ "url": server.url(), "seed": path_str(other.seed_file()) });
    expect_py(&python, "unknown nkey", opts, false, &server);
}

#[test]
fn nats_py_accepts_the_certificates() {
    let Some(python) = python(false) else { return };
    let pki = TestPki::generate();
    let ca = path_str(pki.ca_pem());
    let other_ca = path_str(pki.other_ca_pem());

    let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::ServerOnly));
    for url in [server.url(), format!("nats://localhost:{}", server.port())] {
        let opts = serde_json::json!({ "url": url, "ca": ca });
        expect_py(&python, "server TLS", opts, true, &server);
    }
    let opts = serde_json::json!({ "url": server.url(), "ca": other_ca });
    expect_py(&python, "wrong CA", opts, false, &server);

    // The same CA signed it, but for another name only.
    let wrong_name = format!(
        "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n}}\n",
        pki.wrong_name_cert().display(),
        pki.wrong_name_key().display()
    );
    let misnamed = NatsServer::spawn_with_config(&wrong_name);
    let opts = serde_json::json!({ "url": misnamed.url(), "ca": ca });
    expect_py(&python, "hostname mismatch", opts, false, &misnamed);
}

#[test]
fn nats_py_does_mutual_tls() {
    let Some(python) = python(false) else { return };
    let pki = TestPki::generate();
    let ca = path_str(pki.ca_pem());
    let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::Mutual));
    let url = server.url();

    let opts = serde_json::json!({
        "url": url, "ca": ca,
        "cert": path_str(pki.client_cert()), "key": path_str(pki.client_key()),
    });
    expect_py(&python, "client certificate", opts, true, &server);

    let opts = serde_json::json!({ "url": url, "ca": ca });
    expect_py(&python, "no client certificate", opts, false, &server);

    let opts = serde_json::json!({
        "url": url, "ca": ca,
        "cert": path_str(pki.untrusted_client_cert()),
        "key": path_str(pki.untrusted_client_key()),
    });
    expect_py(
        &python,
        "untrusted client certificate",
        opts,
        false,
        &server,
    );
}

#[test]
fn nats_py_does_handshake_first() {
    let Some(python) = python(false) else { return };
    let pki = TestPki::generate();
    let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::HandshakeFirst));
    let ca = path_str(pki.ca_pem());
    let opts = serde_json::json!({ "url": server.url(), "ca": ca, "handshake_first": true });
    expect_py(&python, "handshake first", opts, true, &server);
}

#[test]
fn plain_cluster_routes_greet_in_plaintext() {
    let cluster = NatsCluster::spawn_with_cluster_config(2, "", "pool_size: 1");
    let route_port = cluster.node(1).cluster_port().expect("route port");
    let info = info_json(&first_line(&format!("127.0.0.1:{route_port}")));
    assert!(info.get("tls_required").is_none(), "route INFO: {info}");
    // The cluster text reached the cluster block: one pooled route (the
    // default pool has 3), besides the one pinned to the system account.
    let routez = cluster.node(0).monitor_json("/routez");
    let pooled = routez["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .filter(|route| route.get("account").is_none())
        .count();
    assert_eq!(pooled, 1, "pool_size 1 gives one pooled route: {routez}");
}
