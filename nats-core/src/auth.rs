//! The credentials a `CONNECT` carries: user and password, a token (fixed or from a callback
//! asked on every connect), an NKey seed, or a user JWT (from a `.creds` file or from a pair
//! of callbacks), the last two signing the server's nonce with the `nkeys` crate.
//!
//! Secrets stay in here and in the `CONNECT` line: `Debug` of the options shows `***`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{ConnectError, ConnectErrorKind, Error};

/// Returns a token, asked on every connect and reconnect.
pub(crate) type TokenCallback = Arc<dyn Fn() -> String + Send + Sync>;
/// Returns the user JWT, asked on every connect.
pub(crate) type JwtCallback = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;
/// Signs the server's nonce with the user's key.
pub(crate) type SignCallback = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

/// Where a secret comes from: read again on every connect, so that a rotated file is used.
#[derive(Clone)]
pub(crate) enum Source {
    Text(String),
    File(PathBuf),
}

impl Source {
    fn read(&self, what: &str) -> Result<String, ConnectError> {
        match self {
            Source::Text(text) => Ok(text.clone()),
            Source::File(path) => std::fs::read_to_string(path).map_err(|err| {
                credentials_error(format!("cannot read the {what} {}: {err}", path.display()))
            }),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Text(_) => f.write_str("Text(***)"),
            Source::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

/// The authentication method chosen in the options (user and password, and a fixed token,
/// live beside it in the options, as nats-py has them).
#[derive(Clone, Default)]
pub(crate) enum Method {
    #[default]
    None,
    TokenCallback(TokenCallback),
    NKey(Source),
    Creds(Source),
    Jwt(JwtCallback, SignCallback),
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::None => f.write_str("None"),
            Method::TokenCallback(_) => f.write_str("TokenCallback"),
            Method::NKey(source) => write!(f, "NKey({source:?})"),
            Method::Creds(source) => write!(f, "Creds({source:?})"),
            Method::Jwt(..) => f.write_str("JwtCallbacks"),
        }
    }
}

/// What goes into the `CONNECT` for the method.
#[derive(Default)]
pub(crate) struct Proof {
    pub(crate) auth_token: Option<String>,
    pub(crate) nkey: Option<String>,
    pub(crate) jwt: Option<String>,
    pub(crate) sig: Option<String>,
}

impl fmt::Debug for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets all: only which fields are set.
        f.debug_struct("Proof")
            .field("auth_token", &self.auth_token.as_ref().map(|_| "***"))
            .field("nkey", &self.nkey)
            .field("jwt", &self.jwt.as_ref().map(|_| "***"))
            .field("sig", &self.sig.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Method {
    /// The `CONNECT` fields for this method, signing `nonce` where the method signs.
    ///
    /// # Errors
    /// [`ConnectErrorKind::Credentials`] when a file cannot be read or parsed, a seed is not
    /// one, a callback fails, or the server sent no nonce to sign.
    pub(crate) fn prove(&self, nonce: &str) -> Result<Proof, ConnectError> {
        match self {
            Method::None => Ok(Proof::default()),
            Method::TokenCallback(token) => Ok(Proof {
                auth_token: Some(token()),
                ..Proof::default()
            }),
            Method::NKey(seed) => {
                let key = key_pair(seed.read("NKey seed file")?.trim())?;
                Ok(Proof {
                    nkey: Some(key.public_key()),
                    sig: Some(sign(&key, nonce)?),
                    ..Proof::default()
                })
            }
            Method::Creds(creds) => {
                let (jwt, seed) = parse_creds(&creds.read("credentials file")?)?;
                let key = key_pair(&seed)?;
                Ok(Proof {
                    jwt: Some(jwt),
                    sig: Some(sign(&key, nonce)?),
                    ..Proof::default()
                })
            }
            Method::Jwt(jwt, signer) => {
                let jwt =
                    jwt().map_err(|e| credentials_error(format!("user JWT callback: {e}")))?;
                let nonce = required_nonce(nonce)?;
                let sig = signer(nonce.as_bytes())
                    .map_err(|e| credentials_error(format!("signature callback: {e}")))?;
                Ok(Proof {
                    jwt: Some(jwt),
                    sig: Some(URL_SAFE_NO_PAD.encode(sig)),
                    ..Proof::default()
                })
            }
        }
    }
}

fn key_pair(seed: &str) -> Result<nkeys::KeyPair, ConnectError> {
    // The error of the nkeys crate never holds the seed itself.
    nkeys::KeyPair::from_seed(seed)
        .map_err(|err| credentials_error(format!("not a valid NKey seed: {err}")))
}

fn required_nonce(nonce: &str) -> Result<&str, ConnectError> {
    if nonce.is_empty() {
        return Err(credentials_error(
            "the server sent no nonce to sign: it does not expect NKey or JWT authentication"
                .into(),
        ));
    }
    Ok(nonce)
}

/// The server's nonce signed with `key`, as nats.go sends it: base64url without padding.
fn sign(key: &nkeys::KeyPair, nonce: &str) -> Result<String, ConnectError> {
    let signature = key
        .sign(required_nonce(nonce)?.as_bytes())
        .map_err(|err| credentials_error(format!("cannot sign the nonce: {err}")))?;
    Ok(URL_SAFE_NO_PAD.encode(signature))
}

/// The user JWT and the seed of a `.creds` file, as nats.go reads them: the content of the
/// first `-----BEGIN ...-----` block is the JWT, the block whose content is a user, account
/// or operator seed (`SU`, `SA`, `SO`) is the seed. A file of one undecorated line is a JWT
/// alone, which is not enough to sign.
pub(crate) fn parse_creds(text: &str) -> Result<(String, String), ConnectError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line.starts_with("---") && line.contains("BEGIN") {
            if let Some(content) = lines.by_ref().find(|l| !l.is_empty()) {
                if !content.starts_with("---") {
                    blocks.push(content.to_owned());
                }
            }
        }
    }
    let jwt = blocks
        .first()
        .cloned()
        .ok_or_else(|| credentials_error("the credentials hold no decorated user JWT".into()))?;
    let seed = blocks
        .iter()
        .skip(1)
        .find(|b| ["SU", "SA", "SO"].iter().any(|p| b.starts_with(p)))
        .cloned()
        .ok_or_else(|| credentials_error("the credentials hold no NKey seed block".into()))?;
    Ok((jwt, seed))
}

fn credentials_error(why: String) -> ConnectError {
    Error::with_source(ConnectErrorKind::Credentials, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDS: &str = "-----BEGIN NATS USER JWT-----
eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4
------END USER NKEY SEED------

*************************************************************
";

    #[test]
    fn creds_files_give_the_jwt_and_the_seed() {
        let (jwt, seed) = parse_creds(CREDS).expect("valid");
        assert_eq!(
            jwt,
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig"
        );
        assert!(seed.starts_with("SUAIBDPB"));
        let crlf = CREDS.replace('\n', "\r\n");
        assert_eq!(parse_creds(&crlf).expect("CRLF too").1, seed);
        let err = parse_creds("just a jwt").expect_err("no blocks");
        assert_eq!(err.kind(), ConnectErrorKind::Credentials);
        let jwt_only = CREDS.split("***").next().expect("first part");
        assert!(parse_creds(jwt_only).is_err(), "a seed is needed to sign");
    }

    #[test]
    fn an_nkey_signs_the_nonce_as_nats_go_does() {
        let key = nkeys::KeyPair::new_user();
        let seed = key.seed().expect("seed");
        let proof = Method::NKey(Source::Text(seed))
            .prove("nonce-123")
            .expect("signed");
        assert_eq!(proof.nkey.as_deref(), Some(key.public_key().as_str()));
        let sig = URL_SAFE_NO_PAD
            .decode(proof.sig.expect("sig"))
            .expect("base64url");
        key.verify(b"nonce-123", &sig).expect("a valid signature");
        let err = Method::NKey(Source::Text("SUNOTASEED".into()))
            .prove("n")
            .expect_err("bad seed");
        assert!(!err.to_string().contains("SUNOTASEED"), "{err}");
        let err = Method::NKey(Source::Text(key.seed().expect("seed")))
            .prove("")
            .expect_err("no nonce");
        assert!(err.to_string().contains("nonce"), "{err}");
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let method = Method::NKey(Source::Text("SUSECRET".into()));
        assert!(!format!("{method:?}").contains("SUSECRET"));
        let method = Method::Creds(Source::Text(CREDS.into()));
        assert!(!format!("{method:?}").contains("SUAIBDPB"));
    }
}
