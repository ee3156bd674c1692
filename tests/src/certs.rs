//! Test certificates, made afresh at test time: a CA, the certificates it signs
//! for servers and clients, and an unrelated CA for the "wrong CA" cases.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};

/// How long before its creation a certificate is already valid, against clock skew.
const BACKDATE: Duration = Duration::minutes(5);

/// How long a certificate is valid after its creation.
const VALIDITY: Duration = Duration::days(1);

/// The names the good server certificate is valid for.
pub const SERVER_NAMES: &[&str] = &["localhost", "127.0.0.1"];

/// The only name of the [wrong-name](PkiFile::WrongNameCert) server certificate.
pub const WRONG_NAME: &str = "wrong.example";

/// One of the PEM files of a [`TestPki`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PkiFile {
    /// The certificate of the CA that signs every certificate below except the
    /// [untrusted client](Self::UntrustedClientCert) one: `ca.pem`.
    Ca,
    /// The server certificate for `localhost` and `127.0.0.1` (subject
    /// alternative names), for server and client authentication (so that
    /// routes can present it too): `server-cert.pem`.
    ServerCert,
    /// The server certificate's private key (PKCS#8): `server-key.pem`.
    ServerKey,
    /// A client certificate for mutual TLS (CN `nats-client`): `client-cert.pem`.
    ClientCert,
    /// The client certificate's private key (PKCS#8): `client-key.pem`.
    ClientKey,
    /// The certificate of a second CA that signs nothing the servers use:
    /// `other-ca.pem`. A client trusting only it must refuse the servers.
    OtherCa,
    /// A server certificate signed by the [CA](Self::Ca) for `wrong.example`
    /// only, for the hostname-mismatch case: `wrong-name-cert.pem`.
    WrongNameCert,
    /// The wrong-name certificate's private key (PKCS#8): `wrong-name-key.pem`.
    WrongNameKey,
    /// A client certificate signed by the [other CA](Self::OtherCa), which a
    /// server with `verify: true` must refuse: `untrusted-client-cert.pem`.
    UntrustedClientCert,
    /// The untrusted client certificate's private key (PKCS#8):
    /// `untrusted-client-key.pem`.
    UntrustedClientKey,
}

impl PkiFile {
    /// Every file, in declaration order.
    pub const ALL: [PkiFile; 10] = [
        PkiFile::Ca,
        PkiFile::ServerCert,
        PkiFile::ServerKey,
        PkiFile::ClientCert,
        PkiFile::ClientKey,
        PkiFile::OtherCa,
        PkiFile::WrongNameCert,
        PkiFile::WrongNameKey,
        PkiFile::UntrustedClientCert,
        PkiFile::UntrustedClientKey,
    ];

    /// The file's name inside [`TestPki::dir`].
    pub fn file_name(self) -> &'static str {
        match self {
            PkiFile::Ca => "ca.pem",
            PkiFile::ServerCert => "server-cert.pem",
            PkiFile::ServerKey => "server-key.pem",
            PkiFile::ClientCert => "client-cert.pem",
            PkiFile::ClientKey => "client-key.pem",
            PkiFile::OtherCa => "other-ca.pem",
            PkiFile::WrongNameCert => "wrong-name-cert.pem",
            PkiFile::WrongNameKey => "wrong-name-key.pem",
            PkiFile::UntrustedClientCert => "untrusted-client-cert.pem",
            PkiFile::UntrustedClientKey => "untrusted-client-key.pem",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Test certificates and keys, all ECDSA P-256 with SHA-256 (which rustls 0.23
/// with ring and nats-server both accept), valid from 5 minutes before
/// [`generate`](Self::generate) for a day, written as PEM files into a
/// temporary directory that is removed when the value is dropped.
///
/// Keep the value alive as long as a server or client reads the files; a
/// [`NatsServer`](crate::NatsServer) reads them only when it starts.
///
/// ```no_run
/// use nats_tests::{tls_conf, NatsServer, TestPki, TlsMode};
///
/// let pki = TestPki::generate();
/// let server = NatsServer::spawn_with_config(&tls_conf(&pki, TlsMode::ServerOnly));
/// // a client trusting pki.ca_pem() connects to server.url()
/// # drop(server);
/// ```
pub struct TestPki {
    /// The PEM text of each file, indexed by [`PkiFile`] order.
    pems: Vec<String>,
    dir: TempDir,
}

impl TestPki {
    /// Makes the two CAs, the certificates and keys, and writes them.
    ///
    /// # Panics
    ///
    /// Panics if a key or certificate cannot be made, or a file cannot be written.
    pub fn generate() -> Self {
        let now = OffsetDateTime::now_utc();
        let ca = make_ca("nats-tests CA", now);
        let other_ca = make_ca("nats-tests other CA", now);
        let (server_cert, server_key) = make_leaf(
            &ca,
            "nats-tests server",
            SERVER_NAMES,
            &[
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            now,
        );
        let (client_cert, client_key) = make_leaf(
            &ca,
            "nats-client",
            &[],
            &[ExtendedKeyUsagePurpose::ClientAuth],
            now,
        );
        let (wrong_cert, wrong_key) = make_leaf(
            &ca,
            WRONG_NAME,
            &[WRONG_NAME],
            &[ExtendedKeyUsagePurpose::ServerAuth],
            now,
        );
        let (untrusted_cert, untrusted_key) = make_leaf(
            &other_ca,
            "untrusted-client",
            &[],
            &[ExtendedKeyUsagePurpose::ClientAuth],
            now,
        );
        let pems = vec![
            ca.pem(),
            server_cert,
            server_key,
            client_cert,
            client_key,
            other_ca.pem(),
            wrong_cert,
            wrong_key,
            untrusted_cert,
            untrusted_key,
        ];
        let dir = tempfile::Builder::new()
            .prefix("nats-pki-")
            .tempdir()
            .unwrap_or_else(|err| panic!("cannot create a directory for the certificates: {err}"));
        for file in PkiFile::ALL {
            let path = dir.path().join(file.file_name());
            fs::write(&path, &pems[file.index()])
                .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
        }
        Self { pems, dir }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The path of `file`.
    pub fn path(&self, file: PkiFile) -> PathBuf {
        self.dir.path().join(file.file_name())
    }

    /// The PEM text of `file`.
    pub fn pem(&self, file: PkiFile) -> &str {
        &self.pems[file.index()]
    }

    /// The CA certificate the servers' and the client's certificates chain to.
    pub fn ca_pem(&self) -> PathBuf {
        self.path(PkiFile::Ca)
    }

    /// The server certificate, for `localhost` and `127.0.0.1`.
    pub fn server_cert(&self) -> PathBuf {
        self.path(PkiFile::ServerCert)
    }

    /// The server certificate's private key.
    pub fn server_key(&self) -> PathBuf {
        self.path(PkiFile::ServerKey)
    }

    /// The client certificate for mutual TLS, signed by the CA.
    pub fn client_cert(&self) -> PathBuf {
        self.path(PkiFile::ClientCert)
    }

    /// The client certificate's private key.
    pub fn client_key(&self) -> PathBuf {
        self.path(PkiFile::ClientKey)
    }

    /// The certificate of the unrelated second CA.
    pub fn other_ca_pem(&self) -> PathBuf {
        self.path(PkiFile::OtherCa)
    }

    /// The server certificate for `wrong.example` only, signed by the CA.
    pub fn wrong_name_cert(&self) -> PathBuf {
        self.path(PkiFile::WrongNameCert)
    }

    /// The wrong-name certificate's private key.
    pub fn wrong_name_key(&self) -> PathBuf {
        self.path(PkiFile::WrongNameKey)
    }

    /// A client certificate signed by the unrelated second CA.
    pub fn untrusted_client_cert(&self) -> PathBuf {
        self.path(PkiFile::UntrustedClientCert)
    }

    /// The untrusted client certificate's private key.
    pub fn untrusted_client_key(&self) -> PathBuf {
        self.path(PkiFile::UntrustedClientKey)
    }
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// Validity and names common to every certificate.
fn params(common_name: &str, names: &[&str], now: OffsetDateTime) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names)
        .unwrap_or_else(|err| panic!("bad certificate names for {common_name}: {err}"));
    params.not_before = now - BACKDATE;
    params.not_after = now + VALIDITY;
    params.distinguished_name.remove(DnType::CommonName);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "nats-tests");
    params
}

/// A self-signed CA certificate and its key.
fn make_ca(common_name: &str, now: OffsetDateTime) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = params(common_name, &[], now);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap_or_else(|err| panic!("cannot make a key: {err}"));
    CertifiedIssuer::self_signed(params, key)
        .unwrap_or_else(|err| panic!("cannot make the CA {common_name}: {err}"))
}

/// A leaf certificate signed by `ca`, and its key, both as PEM.
fn make_leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    common_name: &str,
    names: &[&str],
    usages: &[ExtendedKeyUsagePurpose],
    now: OffsetDateTime,
) -> (String, String) {
    let mut params = params(common_name, names, now);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = usages.to_vec();
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().unwrap_or_else(|err| panic!("cannot make a key: {err}"));
    let cert = params
        .signed_by(&key, ca)
        .unwrap_or_else(|err| panic!("cannot sign the certificate of {common_name}: {err}"));
    (cert.pem(), key.serialize_pem())
}
