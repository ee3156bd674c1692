//! [`Context`]: the entry point to JetStream, made from a [`Client`] with
//! [`Client::jetstream`] and [`ContextOptions`] (API prefix or domain, timeout, how many
//! acknowledgements may be outstanding, publish retries).
//!
//! Every JSON API call goes through [`Context::api_json`]: the subject under the prefix, the
//! request with the context's timeout, no responders read as "JetStream not enabled", and
//! the reply's `error` turned into a typed [`JetStreamError`]. Consumers and Key-Value build
//! on the same call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::account::AccountInfo;
use super::errors::{ApiError, JetStreamError, JetStreamErrorKind};
use crate::client::Client;
use crate::message::Message;
use crate::request_options::RequestOptions;

/// The API prefix of the local JetStream.
pub const DEFAULT_API_PREFIX: &str = "$JS.API";

/// How long an API call or an acknowledgement is waited for, unless the options say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How many acknowledgements [`Context::publish_async`] keeps outstanding at most (as
/// nats.go's default), unless the options say.
pub const DEFAULT_MAX_PENDING_ACKS: usize = 4000;

/// Publish attempts after a "no responders" while a stream leader is elected (ADR-22).
const DEFAULT_PUBLISH_RETRIES: u32 = 2;

/// The wait between those attempts (ADR-22, as nats.go).
const DEFAULT_PUBLISH_RETRY_WAIT: Duration = Duration::from_millis(250);

/// How a [`Context`] is made: where the API is, how long to wait, how much to keep in
/// flight.
///
/// ```
/// use std::time::Duration;
/// use nats_core::jetstream::ContextOptions;
/// let options = ContextOptions::new()
///     .domain("hub")
///     .timeout(Duration::from_secs(2))
///     .max_pending_acks(256);
/// assert_eq!(options.prefix(), "$JS.hub.API");
/// ```
#[derive(Debug, Clone)]
pub struct ContextOptions {
    prefix: String,
    timeout: Duration,
    pub(crate) max_pending_acks: usize,
    pub(crate) publish_retries: u32,
    pub(crate) publish_retry_wait: Duration,
}

impl Default for ContextOptions {
    fn default() -> Self {
        ContextOptions {
            prefix: DEFAULT_API_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_pending_acks: DEFAULT_MAX_PENDING_ACKS,
            publish_retries: DEFAULT_PUBLISH_RETRIES,
            publish_retry_wait: DEFAULT_PUBLISH_RETRY_WAIT,
        }
    }
}

impl ContextOptions {
    /// The local JetStream (`$JS.API`), a 5 second timeout, 4000 acknowledgements in
    /// flight, two publish retries 250 ms apart.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reach the API under `prefix` instead of `$JS.API`, such as the prefix an account
    /// imported another account's JetStream under. Replaces a [`domain`](Self::domain).
    pub fn api_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        let prefix = prefix.trim_end_matches('.');
        self.prefix = if prefix.is_empty() {
            DEFAULT_API_PREFIX.to_owned()
        } else {
            prefix.to_owned()
        };
        self
    }

    /// Reach the JetStream of domain `domain`: the prefix `$JS.<domain>.API`. An empty
    /// domain is the local one. Replaces an [`api_prefix`](Self::api_prefix).
    pub fn domain(mut self, domain: impl AsRef<str>) -> Self {
        let domain = domain.as_ref();
        self.prefix = if domain.is_empty() {
            DEFAULT_API_PREFIX.to_owned()
        } else {
            format!("$JS.{domain}.API")
        };
        self
    }

    /// How long to wait for an API reply or an acknowledgement.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many acknowledgements [`Context::publish_async`] may wait for at once; past it,
    /// publishing waits for one to arrive. At least 1.
    pub fn max_pending_acks(mut self, max: usize) -> Self {
        self.max_pending_acks = max.max(1);
        self
    }

    /// How often a publish answered by "no responders" is sent again, and how long apart:
    /// a stream whose leader is being elected answers nothing for a moment (ADR-22). The
    /// retries stay within the timeout. `0` reports the first "no responders".
    pub fn publish_retries(mut self, attempts: u32, wait: Duration) -> Self {
        self.publish_retries = attempts;
        self.publish_retry_wait = wait;
        self
    }

    /// The API prefix these options lead to.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

/// A JetStream context: stream management, stored messages and acknowledged publishing
/// over one [`Client`]. Cheap to clone; clones share the bound on outstanding
/// acknowledgements.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = nats_core::connect("nats://127.0.0.1:4222").await?;
/// let js = client.jetstream();
/// let account = js.account_info().await?;
/// println!("API level {}, {} streams", account.api_level(), account.streams);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    options: ContextOptions,
    /// One permit per acknowledgement that may be outstanding.
    acks: Arc<Semaphore>,
    /// Whether the API has answered once: a "no responders" on publish then means no
    /// stream, and the API need not be asked whether JetStream is on.
    api_answered: AtomicBool,
}

impl Client {
    /// A JetStream context with the default options: `$JS.API`, a 5 second timeout.
    pub fn jetstream(&self) -> Context {
        self.jetstream_with(ContextOptions::default())
    }

    /// A JetStream context with `options`: a prefix or domain, a timeout, a bound on the
    /// acknowledgements in flight.
    pub fn jetstream_with(&self, options: ContextOptions) -> Context {
        Context {
            inner: Arc::new(Inner {
                client: self.clone(),
                acks: Arc::new(Semaphore::new(options.max_pending_acks)),
                options,
                api_answered: AtomicBool::new(false),
            }),
        }
    }
}

impl Context {
    /// The client this context sends through.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The API prefix, such as `$JS.API` or `$JS.hub.API`.
    pub fn api_prefix(&self) -> &str {
        &self.inner.options.prefix
    }

    /// How long API calls and acknowledgements are waited for.
    pub fn timeout(&self) -> Duration {
        self.inner.options.timeout
    }

    pub(crate) fn options(&self) -> &ContextOptions {
        &self.inner.options
    }

    pub(crate) fn ack_permits(&self) -> &Arc<Semaphore> {
        &self.inner.acks
    }

    /// The account's JetStream usage and limits, and the server's API level.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::NotEnabled`] when nothing answers on the API (JetStream is
    /// off) or the account has no JetStream; [`JetStreamErrorKind::TimedOut`] and the
    /// others of [`JetStreamError`].
    pub async fn account_info(&self) -> Result<AccountInfo, JetStreamError> {
        self.api_request("INFO", Bytes::new()).await
    }

    /// `<prefix>.<suffix>`.
    pub(crate) fn api_subject(&self, suffix: &str) -> String {
        let prefix = self.api_prefix();
        let mut subject = String::with_capacity(prefix.len() + 1 + suffix.len());
        subject.push_str(prefix);
        subject.push('.');
        subject.push_str(suffix);
        subject
    }

    /// Sends `request` as JSON to `<prefix>.<suffix>` and reads the reply as `T`.
    ///
    /// # Errors
    /// As [`api_request`](Self::api_request).
    pub(crate) async fn api_json<Req: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        suffix: &str,
        request: &Req,
    ) -> Result<T, JetStreamError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| JetStreamError::with_source(JetStreamErrorKind::InvalidRequest, e))?;
        self.api_request(suffix, Bytes::from(body)).await
    }

    /// Sends `body` to `<prefix>.<suffix>` and reads the reply as `T`.
    ///
    /// # Errors
    /// `NotEnabled` on no responders, `TimedOut`, the server's error typed by its code, or
    /// `InvalidResponse` for a reply that is not the expected JSON.
    pub(crate) async fn api_request<T: DeserializeOwned>(
        &self,
        suffix: &str,
        body: Bytes,
    ) -> Result<T, JetStreamError> {
        let reply = self.request(&self.api_subject(suffix), body).await?;
        self.inner.api_answered.store(true, Ordering::Relaxed);
        parse_response(&reply)
    }

    /// A request to `subject` with the context's timeout; no responders mean JetStream is
    /// not enabled.
    pub(crate) async fn request(
        &self,
        subject: &str,
        body: Bytes,
    ) -> Result<Message, JetStreamError> {
        let request = RequestOptions::new().payload(body).timeout(self.timeout());
        self.client()
            .send_request(subject, request)
            .await
            .map_err(JetStreamError::from_request)
    }

    /// Whether JetStream answers on the API: known once it answered, else asked with
    /// `INFO`. Asked only on the error path, to tell "no stream" from "not enabled".
    pub(crate) async fn api_answers(&self) -> bool {
        if self.inner.api_answered.load(Ordering::Relaxed) {
            return true;
        }
        match self.account_info().await {
            Ok(_) => true,
            Err(err) => !matches!(
                err.kind(),
                JetStreamErrorKind::NotEnabled | JetStreamErrorKind::TimedOut
            ),
        }
    }
}

/// The part of every API reply that says whether it failed.
#[derive(Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    error: Option<ApiError>,
}

/// Reads an API reply: its `error` as a typed error, else the body as `T`.
pub(crate) fn parse_response<T: DeserializeOwned>(reply: &Message) -> Result<T, JetStreamError> {
    if reply.payload.is_empty() {
        let status = reply.status.map_or(0, |s| s.as_u16());
        return Err(JetStreamError::invalid_response(format!(
            "empty reply (status {status})"
        )));
    }
    let envelope: ErrorEnvelope =
        serde_json::from_slice(&reply.payload).map_err(JetStreamError::invalid_response)?;
    if let Some(error) = envelope.error {
        return Err(JetStreamError::from_api(error));
    }
    serde_json::from_slice(&reply.payload).map_err(JetStreamError::invalid_response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::StatusCode;
    use crate::subject::Subject;

    fn reply(payload: &'static str) -> Message {
        Message {
            subject: Subject::from("_INBOX.x"),
            reply: None,
            payload: Bytes::from_static(payload.as_bytes()),
            headers: None,
            status: None,
            description: None,
            length: payload.len(),
        }
    }

    #[test]
    fn prefixes_and_domains() {
        assert_eq!(ContextOptions::new().prefix(), "$JS.API");
        assert_eq!(ContextOptions::new().domain("hub").prefix(), "$JS.hub.API");
        assert_eq!(ContextOptions::new().domain("").prefix(), "$JS.API");
        assert_eq!(
            ContextOptions::new().api_prefix("JS.acc.API.").prefix(),
            "JS.acc.API"
        );
        assert_eq!(
            ContextOptions::new()
                .domain("hub")
                .api_prefix("X.API")
                .prefix(),
            "X.API",
            "the last one wins"
        );
        assert_eq!(
            ContextOptions::new().max_pending_acks(0).max_pending_acks,
            1
        );
    }

    #[test]
    fn an_error_reply_is_typed_and_a_good_one_parses() {
        let err = parse_response::<AccountInfo>(&reply(
            r#"{"type":"io.nats.jetstream.api.v1.account_info_response","error":{"code":503,"err_code":10039,"description":"JetStream not enabled for account"}}"#,
        ))
        .expect_err("an error");
        assert_eq!(err.kind(), JetStreamErrorKind::NotEnabled);
        let info: AccountInfo =
            parse_response(&reply(r#"{"streams":3,"api":{"level":4}}"#)).expect("parses");
        assert_eq!((info.streams, info.api_level()), (3, 4));
    }

    #[test]
    fn hostile_replies_are_errors_not_panics() {
        for payload in [
            "",
            "not json",
            "[1,2]",
            r#"{"error":"a string"}"#,
            r#"{"streams":"x"}"#,
        ] {
            let err = parse_response::<AccountInfo>(&reply(payload)).expect_err(payload);
            assert_eq!(err.kind(), JetStreamErrorKind::InvalidResponse, "{payload}");
        }
        let mut status = reply("");
        status.status = Some(StatusCode::TIMEOUT);
        let err = parse_response::<AccountInfo>(&status).expect_err("status");
        assert!(err.to_string().contains("408"), "{err}");
    }
}
