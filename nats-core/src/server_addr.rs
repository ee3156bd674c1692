//! Server addresses: `nats://host:port`, `host:port`, `host`, and lists of them.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::{ConnectError, ConnectErrorKind, Error};

/// Port used when an address names none.
pub const DEFAULT_PORT: u16 = 4222;

/// The address of one server, with the credentials it may carry in its URL.
///
/// ```
/// use nats_core::ServerAddr;
/// let addr: ServerAddr = "demo.nats.io".parse().unwrap();
/// assert_eq!(addr.host(), "demo.nats.io");
/// assert_eq!(addr.port(), 4222);
/// let addr: ServerAddr = "nats://alice:secret@127.0.0.1:4333".parse().unwrap();
/// assert_eq!(addr.port(), 4333);
/// assert_eq!(addr.user().as_deref(), Some("alice"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServerAddr {
    url: Url,
    /// The name to verify TLS against when the host is an address the cluster announced by
    /// IP, as nats.go keeps it: the host of the server that announced it.
    tls_name: Option<String>,
}

impl ServerAddr {
    /// Host name or IP address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        let host = self.url.host_str().unwrap_or_default();
        host.trim_start_matches('[').trim_end_matches(']')
    }

    /// Port, 4222 when the address named none.
    pub fn port(&self) -> u16 {
        self.url.port().unwrap_or(DEFAULT_PORT)
    }

    /// The scheme: `nats` or `tls`.
    pub fn scheme(&self) -> &str {
        self.url.scheme()
    }

    /// Whether the address asks for TLS (`tls://`).
    pub fn tls_required(&self) -> bool {
        self.url.scheme() == "tls"
    }

    /// User name given in the URL, percent-decoded (`nats://u%40x:p@h` is `u@x`). With no
    /// password, it is a token (`nats://TOKEN@host`).
    pub fn user(&self) -> Option<String> {
        Some(self.url.username())
            .filter(|u| !u.is_empty())
            .map(percent_decoded)
    }

    /// Password given in the URL, percent-decoded.
    pub fn password(&self) -> Option<String> {
        self.url.password().map(percent_decoded)
    }

    /// `host:port`, as a socket address to dial.
    pub(crate) fn dial_target(&self) -> (String, u16) {
        (self.host().to_owned(), self.port())
    }

    /// Whether both name the same host and port, whatever the scheme and credentials.
    pub(crate) fn same_server(&self, other: &ServerAddr) -> bool {
        self.port() == other.port() && self.host().eq_ignore_ascii_case(other.host())
    }

    /// This address with the user and password of `other`'s URL.
    pub(crate) fn with_credentials_of(&self, other: &ServerAddr) -> ServerAddr {
        let mut url = self.url.clone();
        // Both fail only for URLs that cannot carry credentials, which ours always can.
        let _ = url.set_username(other.url.username());
        let _ = url.set_password(other.url.password());
        ServerAddr {
            url,
            tls_name: self.tls_name.clone(),
        }
    }

    /// This address, verified for TLS against `name` when its host is an IP address.
    pub(crate) fn with_tls_name_of(mut self, other: &ServerAddr) -> ServerAddr {
        let is_ip = |host: &str| host.parse::<std::net::IpAddr>().is_ok();
        if is_ip(self.host()) && !is_ip(other.host()) {
            self.tls_name = Some(other.host().to_owned());
        }
        self
    }

    /// The name to verify TLS against instead of the host, if any.
    pub(crate) fn tls_name(&self) -> Option<&str> {
        self.tls_name.as_deref()
    }
}

impl FromStr for ServerAddr {
    type Err = ConnectError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        // Errors quote the address without its user and password.
        let shown = redacted(input);
        let invalid = |why: String| Error::with_source(ConnectErrorKind::InvalidAddress, why);
        if input.is_empty() {
            return Err(invalid("empty server address".into()));
        }
        let with_scheme = if input.contains("://") {
            input.to_owned()
        } else {
            format!("nats://{input}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| invalid(format!("{shown:?}: {e}")))?;
        match url.scheme() {
            "nats" | "tls" => {}
            other => return Err(invalid(format!("{shown:?}: unsupported scheme {other:?}"))),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(format!("{shown:?}: no host")));
        }
        if !matches!(url.path(), "" | "/") {
            return Err(invalid(format!(
                "{shown:?}: unexpected path {:?}",
                url.path()
            )));
        }
        Ok(ServerAddr {
            url,
            tls_name: None,
        })
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print credentials.
        let host = self.url.host_str().unwrap_or_default();
        write!(f, "{}://{}:{}", self.url.scheme(), host, self.port())
    }
}

impl fmt::Debug for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerAddr({self})")
    }
}

/// `input` with the user and password of its authority replaced by `***`.
fn redacted(input: &str) -> String {
    let start = input.find("://").map_or(0, |i| i + 3);
    let end = input[start..].find('/').map_or(input.len(), |i| start + i);
    match input[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &input[..start], &input[start + at..]),
        None => input.to_owned(),
    }
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Anything that names one or more servers: a `ServerAddr`, a string (possibly a
/// comma-separated list), or a slice or vector of either.
pub trait ToServerAddrs {
    /// The parsed addresses.
    ///
    /// # Errors
    /// [`ConnectErrorKind::InvalidAddress`] naming the address that could not be parsed.
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError>;
}

impl ToServerAddrs for ServerAddr {
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        Ok(vec![self.clone()])
    }
}

impl ToServerAddrs for str {
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        self.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect()
    }
}

impl ToServerAddrs for String {
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        self.as_str().to_server_addrs()
    }
}

impl<T: ToServerAddrs + ?Sized> ToServerAddrs for &T {
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        (**self).to_server_addrs()
    }
}

impl<T: ToServerAddrs> ToServerAddrs for [T] {
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        let mut all = Vec::new();
        for item in self {
            all.extend(item.to_server_addrs()?);
        }
        Ok(all)
    }
}

impl<T: ToServerAddrs, const N: usize> ToServerAddrs for [T; N] {
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        self.as_slice().to_server_addrs()
    }
}

impl<T: ToServerAddrs> ToServerAddrs for Vec<T> {
    fn to_server_addrs(&self) -> Result<Vec<ServerAddr>, ConnectError> {
        self.as_slice().to_server_addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_addresses() {
        let a: ServerAddr = "nats://127.0.0.1:4333".parse().expect("valid");
        assert_eq!(
            (a.host(), a.port(), a.scheme()),
            ("127.0.0.1", 4333, "nats")
        );
        let a: ServerAddr = "localhost".parse().expect("valid");
        assert_eq!((a.host(), a.port()), ("localhost", 4222));
        let a: ServerAddr = "example.com:5000".parse().expect("valid");
        assert_eq!((a.host(), a.port()), ("example.com", 5000));
        let a: ServerAddr = "nats://[::1]:4222".parse().expect("valid");
        assert_eq!(a.host(), "::1");
        let a: ServerAddr = "tls://u:p@h:1".parse().expect("valid");
        assert!(a.tls_required());
        assert_eq!(
            (a.user().as_deref(), a.password().as_deref()),
            (Some("u"), Some("p"))
        );
        let encoded: ServerAddr = "nats://u%40x:p%40ss%3A1@h".parse().expect("valid");
        assert_eq!(
            (encoded.user().as_deref(), encoded.password().as_deref()),
            (Some("u@x"), Some("p@ss:1"))
        );
        assert_eq!(a.to_string(), "tls://h:1");
    }

    #[test]
    fn bad_addresses_are_named() {
        for bad in [
            "",
            "http://h:1",
            "nats://:4222",
            "nats://h:notaport",
            "nats://h:1/path",
        ] {
            let err = bad.parse::<ServerAddr>().expect_err(bad);
            assert_eq!(err.kind(), ConnectErrorKind::InvalidAddress, "{bad}");
        }
        let err = "nats://h:99999".parse::<ServerAddr>().expect_err("port");
        assert!(err.to_string().contains("h:99999"), "{err}");
        for bad in [
            "nats://alice:hunter2@h:notaport",
            "http://tok3n@h:1",
            "alice:pw@h:1/path",
        ] {
            let err = bad.parse::<ServerAddr>().expect_err(bad);
            let text = format!("{err} {err:?}");
            assert!(
                !text.contains("hunter2") && !text.contains("tok3n") && !text.contains("pw@"),
                "{text}"
            );
            assert!(text.contains("***@h:"), "{text}");
        }
    }

    #[test]
    fn lists() {
        let list = "nats://a:1, b:2".to_server_addrs().expect("valid");
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].host(), "b");
        let list = ["a:1", "b"].to_server_addrs().expect("valid");
        assert_eq!(list[1].port(), 4222);
        let list = vec!["a".to_string()].to_server_addrs().expect("valid");
        assert_eq!(list.len(), 1);
    }
}
