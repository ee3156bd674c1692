//! TLS through rustls with the ring provider: the client configuration, built once from the
//! options, the upgrade of a connection, and errors that say which server and why.
//!
//! Roots: the CA certificates given in the options, and only those; without any, the
//! operating system's store (what operators configure, as nats.go and nats-py use). A
//! configuration the user supplies is taken as it is: nothing is added to it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use crate::error::{ConnectError, ConnectErrorKind, Error};
use crate::server_addr::ServerAddr;
use crate::transport::Transport;

/// PEM data, from a file or in memory.
#[derive(Clone)]
pub(crate) enum Pem {
    File(PathBuf),
    Bytes(Vec<u8>),
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::File(path) => write!(f, "File({})", path.display()),
            Pem::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

impl Pem {
    fn read(&self, what: &str) -> Result<Vec<u8>, ConnectError> {
        match self {
            Pem::Bytes(bytes) => Ok(bytes.clone()),
            Pem::File(path) => std::fs::read(path).map_err(|err| {
                config_error(format!("cannot read the {what} {}: {err}", path.display()))
            }),
        }
    }

    fn certificates(&self, what: &str) -> Result<Vec<CertificateDer<'static>>, ConnectError> {
        let bytes = self.read(what)?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| config_error(format!("the {what} is not PEM: {err}")))?;
        if certs.is_empty() {
            return Err(config_error(format!("the {what} holds no certificate")));
        }
        Ok(certs)
    }

    fn private_key(&self) -> Result<PrivateKeyDer<'static>, ConnectError> {
        let bytes = self.read("client key")?;
        PrivateKeyDer::from_pem_slice(&bytes)
            .map_err(|err| config_error(format!("the client key is not a PEM private key: {err}")))
    }
}

/// What the options say about TLS.
#[derive(Clone, Default)]
pub(crate) struct TlsOptions {
    /// Use TLS with every server, whatever its `INFO` says.
    pub(crate) required: bool,
    /// TLS before the server's `INFO` (nats-server's `handshake_first`).
    pub(crate) handshake_first: bool,
    /// The name to verify the server's certificate against, instead of its host.
    pub(crate) hostname: Option<String>,
    pub(crate) roots: Vec<Pem>,
    pub(crate) client_cert: Option<(Pem, Pem)>,
    pub(crate) config: Option<Arc<ClientConfig>>,
    /// The configuration built from the above, once.
    built: Arc<Mutex<Option<Arc<ClientConfig>>>>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("required", &self.required)
            .field("handshake_first", &self.handshake_first)
            .field("hostname", &self.hostname)
            .field("roots", &self.roots)
            .field(
                "client_cert",
                &self.client_cert.as_ref().map(|(cert, _)| cert),
            )
            .field("config", &self.config.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl TlsOptions {
    /// Whether the options ask for TLS with every server.
    pub(crate) fn wanted(&self) -> bool {
        self.required
            || self.handshake_first
            || !self.roots.is_empty()
            || self.client_cert.is_some()
            || self.config.is_some()
    }

    /// The client configuration, built on first use and kept.
    ///
    /// # Errors
    /// [`ConnectErrorKind::Tls`] naming the file or setting that could not be used.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, ConnectError> {
        if let Some(config) = &self.config {
            return Ok(Arc::clone(config));
        }
        let mut built = self.built.lock();
        if let Some(config) = &*built {
            return Ok(Arc::clone(config));
        }
        let config = Arc::new(self.build()?);
        *built = Some(Arc::clone(&config));
        Ok(config)
    }

    fn build(&self) -> Result<ClientConfig, ConnectError> {
        let mut roots = RootCertStore::empty();
        if self.roots.is_empty() {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                // A certificate of the store that rustls cannot use is skipped, as browsers do.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(config_error(format!(
                    "no usable root certificate in the system store ({} error(s)); give a CA \
                     with tls_ca_file",
                    native.errors.len()
                )));
            }
        } else {
            for pem in &self.roots {
                for cert in pem.certificates("CA file")? {
                    roots
                        .add(cert)
                        .map_err(|err| config_error(format!("unusable CA certificate: {err}")))?;
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| config_error(format!("TLS versions: {err}")))?
            .with_root_certificates(roots);
        match &self.client_cert {
            None => Ok(builder.with_no_client_auth()),
            Some((cert, key)) => builder
                .with_client_auth_cert(cert.certificates("client certificate")?, key.private_key()?)
                .map_err(|err| config_error(format!("client certificate and key: {err}"))),
        }
    }
}

/// Runs the TLS handshake with `addr` over `stream`.
///
/// # Errors
/// [`ConnectErrorKind::Tls`] naming the server and why: unknown issuer, name mismatch,
/// expired certificate, a server that does not speak TLS.
pub(crate) async fn upgrade(
    stream: Transport,
    addr: &ServerAddr,
    tls: &TlsOptions,
) -> Result<Transport, ConnectError> {
    let config = tls.client_config()?;
    let name = tls
        .hostname
        .clone()
        .or_else(|| addr.tls_name().map(str::to_owned))
        .unwrap_or_else(|| addr.host().to_owned());
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| config_error(format!("{name:?} is not a host name to verify TLS against")))?;
    let stream = TlsConnector::from(config)
        .connect(server_name, stream)
        .await
        .map_err(|err| handshake_error(addr, &name, &err))?;
    Ok(Transport::Boxed(Box::new(stream)))
}

/// What a TLS alert from the server inside `err` means, if there is one.
pub(crate) fn alert(err: &io::Error) -> Option<String> {
    let tls = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::AlertReceived(
            alert @ (rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::CertificateUnknown),
        ) => format!("the server refused the client certificate (alert {alert:?})"),
        other => format!("TLS error: {other}"),
    })
}

fn config_error(why: String) -> ConnectError {
    Error::with_source(ConnectErrorKind::Tls, why)
}

/// Says why a handshake failed in words a user can act on.
fn handshake_error(addr: &ServerAddr, name: &str, err: &io::Error) -> ConnectError {
    let tls = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let why = match tls {
        Some(rustls::Error::InvalidCertificate(cert)) => match cert {
            rustls::CertificateError::UnknownIssuer => {
                "the server's certificate is not signed by a trusted CA (unknown issuer)".into()
            }
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. } => {
                format!("the server's certificate is not valid for {name:?} (name mismatch)")
            }
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired".into()
            }
            other => format!("invalid server certificate: {other:?}"),
        },
        Some(other) => format!("TLS error: {other}"),
        None => format!("TLS handshake failed: {err}"),
    };
    Error::with_source(ConnectErrorKind::Tls, format!("{addr}: {why}"))
}
