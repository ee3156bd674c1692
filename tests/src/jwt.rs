//! Decentralised authentication for tests: an operator, its accounts and users
//! as NATS JWTs (v2) signed by hand with NKeys, the config of a server that
//! trusts them, and the `.creds` files clients log in with; and a plain NKey
//! user, for seed authentication without JWTs.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use nkeys::KeyPair;
use serde_json::{json, Map, Value};
use tempfile::TempDir;

use crate::security::{quoted, quoted_path};

/// The JOSE header of every NATS JWT, as nats-io/jwt v2 writes it.
const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;

/// The version of the NATS JWT claims format.
const JWT_VERSION: u64 = 2;

/// The name of the operator in its JWT.
pub const OPERATOR_NAME: &str = "nats-tests";

/// The name of the account the users belong to.
pub const ACCOUNT_NAME: &str = "APP";

/// The name of the system account.
pub const SYSTEM_ACCOUNT_NAME: &str = "SYS";

/// The name of the user [`OperatorMode::generate`] issues.
pub const USER_NAME: &str = "tester";

/// The `.creds` file [`OperatorMode::generate`] writes for its user.
const USER_CREDS_FILE: &str = "user.creds";

/// The operator JWT file (the config inlines the JWT; the file is for tools).
const OPERATOR_JWT_FILE: &str = "operator.jwt";

/// The seed file of an [`NkeyUser`].
const NKEY_SEED_FILE: &str = "user.nk";

/// What a user issued by [`OperatorMode::issue_user`] may do and how long.
///
/// The default allows everything (empty `pub` and `sub` permissions), never
/// expires and needs the nonce signed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserOptions {
    /// Subjects the user may publish to; empty allows all not denied.
    pub pub_allow: Vec<String>,
    /// Subjects the user may not publish to.
    pub pub_deny: Vec<String>,
    /// Subjects the user may subscribe to; empty allows all not denied.
    pub sub_allow: Vec<String>,
    /// Subjects the user may not subscribe to.
    pub sub_deny: Vec<String>,
    /// When the JWT expires (`exp`); one in the past makes the server refuse
    /// the user, and one in the near future makes it close the connection then.
    pub expires: Option<SystemTime>,
    /// A bearer token (`bearer_token: true`): the server takes the JWT alone,
    /// without a signed nonce.
    pub bearer: bool,
}

/// A user of an [`OperatorMode`] account: its JWT and its NKey.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCreds {
    /// The user's name in its JWT.
    pub name: String,
    /// The user JWT, signed by the account key.
    pub jwt: String,
    /// The user's NKey seed (`SU...`), which signs the server's nonce.
    pub seed: String,
    /// The user's public key (`U...`), the JWT's subject.
    pub public_key: String,
}

impl UserCreds {
    /// The text of a `.creds` file for the user, as `nsc` writes it and
    /// nats.go, nats-py and the other clients parse it: see [`creds_text`].
    pub fn creds_text(&self) -> String {
        creds_text(&self.jwt, &self.seed)
    }
}

impl std::fmt::Debug for UserCreds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCreds")
            .field("name", &self.name)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// An operator with a system account `SYS` and an account `APP` holding one
/// user, `tester`, for a server in operator mode with a memory resolver.
///
/// Everything is made afresh by [`generate`](Self::generate): the NKeys, the
/// JWTs, and a temporary directory, removed on drop, holding the user's
/// `.creds` file. `APP` has no limits (JetStream included, if the server
/// enables it); `tester` may publish and subscribe to anything.
///
/// ```no_run
/// use nats_tests::{NatsServer, OperatorMode};
///
/// let auth = OperatorMode::generate();
/// let server = NatsServer::spawn_with_config(&auth.server_conf());
/// // a client connects to server.url() with the creds file auth.creds_path()
/// # drop(server);
/// ```
pub struct OperatorMode {
    operator: KeyPair,
    account: KeyPair,
    system: KeyPair,
    operator_jwt: String,
    account_jwt: String,
    system_jwt: String,
    user: UserCreds,
    dir: TempDir,
}

impl OperatorMode {
    /// Makes the keys and JWTs, and writes the user's `.creds` file.
    ///
    /// # Panics
    ///
    /// Panics if signing fails or a file cannot be written.
    pub fn generate() -> Self {
        let operator = KeyPair::new_operator();
        let account = KeyPair::new_account();
        let system = KeyPair::new_account();
        let operator_jwt = sign_jwt(
            &operator,
            &operator.public_key(),
            OPERATOR_NAME,
            None,
            operator_nats(&system.public_key()),
        );
        let account_jwt = sign_jwt(
            &operator,
            &account.public_key(),
            ACCOUNT_NAME,
            None,
            account_nats(true),
        );
        let system_jwt = sign_jwt(
            &operator,
            &system.public_key(),
            SYSTEM_ACCOUNT_NAME,
            None,
            account_nats(false),
        );
        let dir = tempfile::Builder::new()
            .prefix("nats-jwt-")
            .tempdir()
            .unwrap_or_else(|err| panic!("cannot create a directory for the JWTs: {err}"));
        write(&dir.path().join(OPERATOR_JWT_FILE), &operator_jwt);
        let user = issue(&account, USER_NAME, &UserOptions::default());
        write(&dir.path().join(USER_CREDS_FILE), &user.creds_text());
        Self {
            operator,
            account,
            system,
            operator_jwt,
            account_jwt,
            system_jwt,
            user,
            dir,
        }
    }

    /// The config text of a server in operator mode trusting this operator,
    /// with `SYS` as system account and both accounts preloaded into a memory
    /// resolver:
    ///
    /// ```text
    /// operator: "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ...."
    /// system_account: "ACSYS..."
    /// resolver: MEMORY
    /// resolver_preload: {
    ///   "ACSYS...": "eyJ..."
    ///   "ADAPP...": "eyJ..."
    /// }
    /// ```
    ///
    /// The server then puts a `nonce` into its `INFO` for the client to sign.
    pub fn server_conf(&self) -> String {
        let mut conf = String::new();
        conf.push_str(&format!("operator: {}\n", quoted(&self.operator_jwt)));
        conf.push_str(&format!(
            "system_account: {}\n",
            quoted(&self.system.public_key())
        ));
        conf.push_str("resolver: MEMORY\n");
        conf.push_str("resolver_preload: {\n");
        for (key, jwt) in [
            (self.system.public_key(), &self.system_jwt),
            (self.account.public_key(), &self.account_jwt),
        ] {
            conf.push_str(&format!("  {}: {}\n", quoted(&key), quoted(jwt)));
        }
        conf.push_str("}\n");
        conf
    }

    /// The directory holding the `.creds` and JWT files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `.creds` file of the user `tester`.
    pub fn creds_path(&self) -> PathBuf {
        self.dir.path().join(USER_CREDS_FILE)
    }

    /// The text of [`creds_path`](Self::creds_path).
    pub fn creds_text(&self) -> String {
        self.user.creds_text()
    }

    /// The user `tester`.
    pub fn user(&self) -> &UserCreds {
        &self.user
    }

    /// The user JWT of `tester`.
    pub fn user_jwt(&self) -> &str {
        &self.user.jwt
    }

    /// The NKey seed of `tester` (`SU...`).
    pub fn user_seed(&self) -> &str {
        &self.user.seed
    }

    /// The public key of `tester` (`U...`).
    pub fn user_public_key(&self) -> &str {
        &self.user.public_key
    }

    /// The operator JWT (self-signed), also in the file `operator.jwt` of
    /// [`dir`](Self::dir).
    pub fn operator_jwt(&self) -> &str {
        &self.operator_jwt
    }

    /// The operator's public key (`O...`).
    pub fn operator_public_key(&self) -> String {
        self.operator.public_key()
    }

    /// The JWT of the account `APP`, signed by the operator.
    pub fn account_jwt(&self) -> &str {
        &self.account_jwt
    }

    /// The public key of the account `APP` (`A...`), which a user's
    /// connection is in: `INFO` after `CONNECT` does not show it, but
    /// `$SYS.REQ.USER.INFO` and the monitoring endpoints do.
    pub fn account_public_key(&self) -> String {
        self.account.public_key()
    }

    /// The JWT of the system account `SYS`, signed by the operator.
    pub fn system_account_jwt(&self) -> &str {
        &self.system_jwt
    }

    /// The public key of the system account `SYS` (`A...`).
    pub fn system_account_public_key(&self) -> String {
        self.system.public_key()
    }

    /// Issues another user of `APP`, signed by the account key, such as one
    /// with narrow permissions or an expired JWT. Nothing is written: see
    /// [`write_creds`](Self::write_creds).
    ///
    /// # Panics
    ///
    /// Panics if signing fails.
    pub fn issue_user(&self, name: &str, options: &UserOptions) -> UserCreds {
        issue(&self.account, name, options)
    }

    /// Issues a user signed by a fresh account key that the server does not
    /// know: the server refuses it.
    ///
    /// # Panics
    ///
    /// Panics if signing fails.
    pub fn issue_unknown_account_user(&self, name: &str) -> UserCreds {
        issue(&KeyPair::new_account(), name, &UserOptions::default())
    }

    /// Writes `user`'s `.creds` file as `file_name` into [`dir`](Self::dir)
    /// and returns its path.
    ///
    /// # Panics
    ///
    /// Panics if the file cannot be written.
    pub fn write_creds(&self, user: &UserCreds, file_name: &str) -> PathBuf {
        let path = self.dir.path().join(file_name);
        write(&path, &user.creds_text());
        path
    }
}

impl std::fmt::Debug for OperatorMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorMode")
            .field("operator", &self.operator.public_key())
            .field("account", &self.account.public_key())
            .field("system_account", &self.system.public_key())
            .field("user", &self.user)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

/// A user who logs in with an NKey alone (no JWT): the server knows its public
/// key from its config and checks the client's signature of the nonce.
///
/// The seed is also written, as a single line, into a temporary file removed
/// on drop, for clients that take a seed file.
pub struct NkeyUser {
    seed: String,
    public_key: String,
    dir: TempDir,
}

impl NkeyUser {
    /// Makes a user key pair and writes its seed file.
    ///
    /// # Panics
    ///
    /// Panics if the seed cannot be encoded or the file cannot be written.
    pub fn generate() -> Self {
        let user = KeyPair::new_user();
        let seed = user
            .seed()
            .unwrap_or_else(|err| panic!("cannot encode a user seed: {err}"));
        let dir = tempfile::Builder::new()
            .prefix("nats-nkey-")
            .tempdir()
            .unwrap_or_else(|err| panic!("cannot create a directory for the seed: {err}"));
        write(&dir.path().join(NKEY_SEED_FILE), &format!("{seed}\n"));
        Self {
            seed,
            public_key: user.public_key(),
            dir,
        }
    }

    /// The config text of a server that knows only this user:
    ///
    /// ```text
    /// authorization {
    ///   users = [
    ///     { nkey: "UD..." }
    ///   ]
    /// }
    /// ```
    pub fn server_conf(&self) -> String {
        format!(
            "authorization {{\n  users = [\n    {{ nkey: {} }}\n  ]\n}}\n",
            quoted(&self.public_key)
        )
    }

    /// The seed (`SU...`).
    pub fn seed(&self) -> &str {
        &self.seed
    }

    /// The public key (`U...`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The file holding the seed and a newline.
    pub fn seed_file(&self) -> PathBuf {
        self.dir.path().join(NKEY_SEED_FILE)
    }

    /// [`seed_file`](Self::seed_file) as a double-quoted config string.
    pub fn seed_file_quoted(&self) -> String {
        quoted_path(&self.seed_file())
    }
}

impl std::fmt::Debug for NkeyUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NkeyUser")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// The text of a `.creds` file, exactly as nats-io/jwt's `FormatUserConfig`
/// (and so `nsc`) writes it:
///
/// ```text
/// -----BEGIN NATS USER JWT-----
/// eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ...
/// ------END NATS USER JWT------
///
/// ************************* IMPORTANT *************************
/// NKEY Seed printed below can be used to sign and prove identity.
/// NKEYs are sensitive and should be treated as secrets.
///
/// -----BEGIN USER NKEY SEED-----
/// SUAM...
/// ------END USER NKEY SEED------
///
/// *************************************************************
/// ```
pub fn creds_text(jwt: &str, seed: &str) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\
         NKEYs are sensitive and should be treated as secrets.\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n\
         *************************************************************\n"
    )
}

/// Decodes the claims (the middle part) of a JWT, for checks in tests.
///
/// # Panics
///
/// Panics if `jwt` does not have three parts or its claims are not base64url
/// JSON.
pub fn decode_claims(jwt: &str) -> Value {
    let mut parts = jwt.split('.');
    let claims = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(claims), Some(_), None) => claims,
        _ => panic!("not a JWT: {jwt:?}"),
    };
    let bytes = BASE64URL_NOPAD
        .decode(claims.as_bytes())
        .unwrap_or_else(|err| panic!("JWT claims are not base64url: {err}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|err| panic!("JWT claims are not JSON: {err}"))
}

/// A user of the account `account`, signed by its key.
fn issue(account: &KeyPair, name: &str, options: &UserOptions) -> UserCreds {
    let user = KeyPair::new_user();
    let seed = user
        .seed()
        .unwrap_or_else(|err| panic!("cannot encode a user seed: {err}"));
    let expires = options.expires.map(unix_seconds);
    let jwt = sign_jwt(
        account,
        &user.public_key(),
        name,
        expires,
        user_nats(options),
    );
    UserCreds {
        name: name.to_owned(),
        jwt,
        seed,
        public_key: user.public_key(),
    }
}

/// The `nats` claims of the operator.
fn operator_nats(system_account: &str) -> Value {
    json!({
        "system_account": system_account,
        "type": "operator",
        "version": JWT_VERSION,
    })
}

/// The `nats` claims of an account without limits, with JetStream if `jetstream`
/// (the system account may not have it).
fn account_nats(jetstream: bool) -> Value {
    let mut limits = json!({
        "subs": -1,
        "data": -1,
        "payload": -1,
        "imports": -1,
        "exports": -1,
        "wildcards": true,
        "conn": -1,
        "leaf": -1,
    });
    if jetstream {
        if let Value::Object(map) = &mut limits {
            for key in ["mem_storage", "disk_storage", "streams", "consumer"] {
                map.insert(key.to_owned(), json!(-1));
            }
        }
    }
    json!({
        "limits": limits,
        "default_permissions": { "pub": {}, "sub": {} },
        "authorization": {},
        "type": "account",
        "version": JWT_VERSION,
    })
}

/// The `nats` claims of a user.
fn user_nats(options: &UserOptions) -> Value {
    let mut nats = json!({
        "pub": permission(&options.pub_allow, &options.pub_deny),
        "sub": permission(&options.sub_allow, &options.sub_deny),
        "subs": -1,
        "data": -1,
        "payload": -1,
        "type": "user",
        "version": JWT_VERSION,
    });
    if options.bearer {
        if let Value::Object(map) = &mut nats {
            map.insert("bearer_token".to_owned(), Value::Bool(true));
        }
    }
    nats
}

/// One direction of a user's permissions: `{}` allows everything.
fn permission(allow: &[String], deny: &[String]) -> Value {
    let mut map = Map::new();
    if !allow.is_empty() {
        map.insert("allow".to_owned(), json!(allow));
    }
    if !deny.is_empty() {
        map.insert("deny".to_owned(), json!(deny));
    }
    Value::Object(map)
}

/// Signs a JWT for `subject` with `issuer`'s key: the claims are `jti`, `iat`,
/// `iss`, `name`, `sub`, `exp` if given, and `nats`.
///
/// The `jti` is computed as nats-io/jwt does: the unpadded base32 of the
/// SHA-512/256 of the JSON of the standard claims (Go field order, `jti`
/// left out).
fn sign_jwt(
    issuer: &KeyPair,
    subject: &str,
    name: &str,
    expires: Option<u64>,
    nats: Value,
) -> String {
    let issued_at = unix_seconds(SystemTime::now());
    let issuer_key = issuer.public_key();
    let text = |value: &str| Value::String(value.to_owned()).to_string();
    // The Go struct order is aud, exp, jti, iat, iss, name, nbf, sub.
    let mut standard = String::from("{");
    if let Some(expires) = expires {
        standard.push_str(&format!("\"exp\":{expires},"));
    }
    standard.push_str(&format!(
        "\"iat\":{issued_at},\"iss\":{},\"name\":{},\"sub\":{}}}",
        text(&issuer_key),
        text(name),
        text(subject)
    ));
    let digest = ring::digest::digest(&ring::digest::SHA512_256, standard.as_bytes());
    let jti = BASE32_NOPAD.encode(digest.as_ref());

    let mut claims = Map::new();
    claims.insert("jti".to_owned(), Value::String(jti));
    claims.insert("iat".to_owned(), json!(issued_at));
    claims.insert("iss".to_owned(), Value::String(issuer_key));
    claims.insert("name".to_owned(), Value::String(name.to_owned()));
    claims.insert("sub".to_owned(), Value::String(subject.to_owned()));
    if let Some(expires) = expires {
        claims.insert("exp".to_owned(), json!(expires));
    }
    claims.insert("nats".to_owned(), nats);
    let payload = Value::Object(claims).to_string();

    let signed = format!(
        "{}.{}",
        BASE64URL_NOPAD.encode(JWT_HEADER.as_bytes()),
        BASE64URL_NOPAD.encode(payload.as_bytes())
    );
    let signature = issuer
        .sign(signed.as_bytes())
        .unwrap_or_else(|err| panic!("cannot sign a JWT: {err}"));
    format!("{signed}.{}", BASE64URL_NOPAD.encode(&signature))
}

/// Seconds since the Unix epoch (0 for times before it).
fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Writes `text` to `path`, or panics saying which file failed.
fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
}

#[cfg(test)]
mod tests {
    use super::{creds_text, decode_claims, OperatorMode, UserOptions};
    use data_encoding::BASE64URL_NOPAD;
    use nkeys::KeyPair;

    #[test]
    fn user_jwt_chains_to_the_account_and_verifies() {
        let auth = OperatorMode::generate();
        let claims = decode_claims(auth.user_jwt());
        assert_eq!(claims["iss"], auth.account_public_key().as_str());
        assert_eq!(claims["sub"], auth.user_public_key());
        assert_eq!(claims["nats"]["type"], "user");
        assert_eq!(claims["nats"]["version"], 2);

        let (signed, signature) = auth
            .user_jwt()
            .rsplit_once('.')
            .expect("a JWT has a signature");
        let signature = BASE64URL_NOPAD
            .decode(signature.as_bytes())
            .expect("base64url signature");
        KeyPair::from_public_key(&auth.account_public_key())
            .expect("account key")
            .verify(signed.as_bytes(), &signature)
            .expect("the account signed the user JWT");

        let account = decode_claims(auth.account_jwt());
        assert_eq!(account["iss"], auth.operator_public_key().as_str());
        let operator = decode_claims(auth.operator_jwt());
        assert_eq!(operator["iss"], operator["sub"]);
        assert_eq!(
            operator["nats"]["system_account"],
            auth.system_account_public_key().as_str()
        );
    }

    #[test]
    fn permissions_and_expiry_are_claimed() {
        let auth = OperatorMode::generate();
        let options = UserOptions {
            pub_allow: vec!["ok.>".to_owned()],
            sub_deny: vec!["secret".to_owned()],
            expires: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1000)),
            ..UserOptions::default()
        };
        let user = auth.issue_user("narrow", &options);
        let claims = decode_claims(&user.jwt);
        assert_eq!(claims["exp"], 1000);
        assert_eq!(claims["nats"]["pub"]["allow"][0], "ok.>");
        assert_eq!(claims["nats"]["sub"]["deny"][0], "secret");
        assert!(claims["nats"]["pub"].get("deny").is_none());
    }

    #[test]
    fn creds_file_has_the_decorated_blocks() {
        let text = creds_text("J.W.T", "SUSEED");
        assert!(text.starts_with(
            "-----BEGIN NATS USER JWT-----\nJ.W.T\n------END NATS USER JWT------\n\n"
        ));
        assert!(text.contains(
            "\n-----BEGIN USER NKEY SEED-----\nSUSEED\n------END USER NKEY SEED------\n"
        ));
        assert!(text.ends_with("*************************************************************\n"));
    }
}
