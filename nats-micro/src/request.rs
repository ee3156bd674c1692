//! [`Request`]: one request to an endpoint, as nats-py's `nats.micro.Request`: subject,
//! headers, data, `respond` and `respond_error`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use nats_core::{Client, HeaderMap, Message, PublishErrorKind, Subject};
use parking_lot::Mutex;
use serde::Serialize;

use crate::error::{RespondError, RespondErrorKind, ServiceError, INTERNAL_ERROR};
use crate::reply::error_headers;
use crate::stats::Counters;

/// A request delivered to an endpoint.
///
/// Handlers answer by returning a reply (see [`IntoReply`](crate::IntoReply)), or, as in
/// nats-py, by calling [`respond`](Self::respond) or [`respond_error`](Self::respond_error)
/// and returning `()`. Cloning is cheap: the payload and headers are shared.
///
/// ```
/// use nats_micro::Request;
/// let request = Request::new("calc.add", "[1, 2]");
/// assert_eq!(request.subject(), "calc.add");
/// assert_eq!(request.data(), "[1, 2]");
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    message: Message,
    responder: Option<Responder>,
}

impl Request {
    /// A request on `subject` with `payload` and no reply subject, not bound to a connection:
    /// for testing handlers without a server. [`respond`](Self::respond) fails on it.
    pub fn new(subject: impl Into<Subject>, payload: impl Into<Bytes>) -> Self {
        let payload = payload.into();
        Request::from_message(Message {
            subject: subject.into(),
            reply: None,
            length: payload.len(),
            payload,
            headers: None,
            status: None,
            description: None,
        })
    }

    /// A request made of `message`, not bound to a connection (see [`new`](Self::new)).
    pub fn from_message(message: Message) -> Self {
        Request {
            message,
            responder: None,
        }
    }

    /// The same request with `headers`.
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.message.headers = Some(headers);
        self
    }

    pub(crate) fn bound(message: Message, responder: Responder) -> Self {
        Request {
            message,
            responder: Some(responder),
        }
    }

    /// The subject the request was sent to.
    pub fn subject(&self) -> &str {
        &self.message.subject
    }

    /// Where the caller waits for the reply; `None` for a message that expects none.
    pub fn reply(&self) -> Option<&str> {
        self.message.reply.as_deref()
    }

    /// The request's headers, if it has any.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.message.headers.as_ref()
    }

    /// The request's payload.
    pub fn data(&self) -> &Bytes {
        &self.message.payload
    }

    /// The message the request arrived in.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Sends `data` (and `headers`) as the reply.
    ///
    /// A handler that responds this way should return `()`, which then sends nothing more.
    ///
    /// # Errors
    /// A [`RespondError`] when the request has no reply subject, is not bound to a connection,
    /// or the reply cannot be published; the failure counts as an endpoint error.
    pub async fn respond(
        &self,
        data: impl Into<Bytes>,
        headers: Option<HeaderMap>,
    ) -> Result<(), RespondError> {
        let responder = self.responder()?;
        responder
            .send(self.message.reply.as_ref(), data.into(), headers)
            .await
    }

    /// Serializes `value` as JSON and sends it as the reply.
    ///
    /// # Errors
    /// As [`respond`](Self::respond); a value that cannot be serialized is answered with a
    /// `500` error reply and reported as [`RespondErrorKind::Publish`].
    pub async fn respond_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), RespondError> {
        match serde_json::to_vec(value) {
            Ok(json) => self.respond(json, None).await,
            Err(error) => {
                let description = format!("failed to serialize the reply: {error}");
                self.respond_error(INTERNAL_ERROR, &description, Bytes::new(), None)
                    .await?;
                Err(RespondError::with_source(RespondErrorKind::Publish, error))
            }
        }
    }

    /// Sends an error reply: headers `Nats-Service-Error: <description>` and
    /// `Nats-Service-Error-Code: <code>`, `data` as the body. Counts as an endpoint error
    /// (`last_error` becomes `"<code>:<description>"`).
    ///
    /// # Errors
    /// [`RespondErrorKind::EmptyCode`] or [`RespondErrorKind::EmptyDescription`] when one of
    /// the two is empty (nothing is sent then), or as [`respond`](Self::respond).
    pub async fn respond_error(
        &self,
        code: impl std::fmt::Display,
        description: &str,
        data: impl Into<Bytes>,
        headers: Option<HeaderMap>,
    ) -> Result<(), RespondError> {
        let code = code.to_string();
        if code.trim().is_empty() {
            return Err(RespondError::new(RespondErrorKind::EmptyCode));
        }
        if description.is_empty() {
            return Err(RespondError::new(RespondErrorKind::EmptyDescription));
        }
        let error = ServiceError::new(code, description).with_data(data);
        let responder = self.responder()?;
        responder
            .send_error(self.message.reply.as_ref(), &error, headers)
            .await
    }

    fn responder(&self) -> Result<&Responder, RespondError> {
        self.responder
            .as_ref()
            .ok_or_else(|| RespondError::new(RespondErrorKind::NotConnected))
    }
}

/// Sends replies for one request and counts their failures on its endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Responder {
    client: Client,
    counters: Arc<Mutex<Counters>>,
    responded: Arc<AtomicBool>,
}

impl Responder {
    pub(crate) fn new(client: Client, counters: Arc<Mutex<Counters>>) -> Self {
        Responder {
            client,
            counters,
            responded: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a reply was sent (or attempted) through this responder.
    pub(crate) fn responded(&self) -> bool {
        self.responded.load(Ordering::Acquire)
    }

    /// Adds the time one request took.
    pub(crate) fn processed(&self, elapsed: Duration) {
        self.counters.lock().processed(elapsed);
    }

    /// Counts an endpoint error.
    pub(crate) fn count_error(&self, last_error: String) {
        self.counters.lock().error(last_error);
    }

    /// Publishes a message reply; a failure is counted as a `500` error. A reply larger than
    /// the server's `max_payload` is answered with a `500` error reply saying so (counted
    /// once), so the caller does not wait for a reply that never comes.
    pub(crate) async fn send(
        &self,
        to: Option<&Subject>,
        payload: Bytes,
        headers: Option<HeaderMap>,
    ) -> Result<(), RespondError> {
        self.responded.store(true, Ordering::Release);
        let Some(to) = to else {
            let error = RespondError::new(RespondErrorKind::NoReplySubject);
            self.count_error(format!("{INTERNAL_ERROR}:{error}"));
            return Err(error);
        };
        let size = payload.len() + headers.as_ref().map_or(0, header_block_len);
        let published = match headers {
            Some(headers) => self.client.publish_with_headers(to, headers, payload).await,
            None => self.client.publish(to, payload).await,
        };
        let Err(error) = published else {
            return Ok(());
        };
        if error.kind() == PublishErrorKind::MaxPayloadExceeded {
            let too_large = ServiceError::internal(format!(
                "reply of {size} bytes exceeds the server's max_payload of {}",
                self.client.max_payload()
            ));
            if let Err(not_sent) = self.send_error(Some(to), &too_large, None).await {
                tracing::warn!(error = %not_sent, "error reply for an oversized reply not sent");
            }
            return Err(RespondError::with_source(RespondErrorKind::Publish, error));
        }
        let error = RespondError::with_source(RespondErrorKind::Publish, error);
        self.count_error(format!("{INTERNAL_ERROR}:{error}"));
        Err(error)
    }

    /// Publishes an error reply. The error is counted before the reply leaves, so that the
    /// caller's next STATS request sees it; a failure to send is not counted a second time.
    pub(crate) async fn send_error(
        &self,
        to: Option<&Subject>,
        error: &ServiceError,
        headers: Option<HeaderMap>,
    ) -> Result<(), RespondError> {
        self.responded.store(true, Ordering::Release);
        // Sanitised once: STATS records exactly what the headers carry.
        let error = error.sendable();
        self.count_error(error.last_error());
        let Some(to) = to else {
            return Err(RespondError::new(RespondErrorKind::NoReplySubject));
        };
        let headers = error_headers(&error, headers);
        self.client
            .publish_with_headers(to, headers, error.data.clone())
            .await
            .map_err(|e| RespondError::with_source(RespondErrorKind::Publish, e))
    }
}

/// Length in bytes of `headers` as the client encodes them (`NATS/1.0\r\n`, one
/// `Name: value\r\n` per value, `\r\n`): the part of a reply's size that is not payload.
fn header_block_len(headers: &HeaderMap) -> usize {
    "NATS/1.0\r\n".len()
        + headers
            .iter()
            .map(|(name, value)| name.len() + 2 + value.len() + 2)
            .sum::<usize>()
        + 2
}
