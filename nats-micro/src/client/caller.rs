//! [`Caller`]: the bottom of a typed client's tower stack, which sends calls over NATS.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use nats_core::{Client, Message, RequestOptions};
use tower::Service;

use super::call::ClientCall;
use crate::call::send_request;
use crate::error::CallError;

/// The future of a [`Caller`]: the successful reply (`None` for a call that expects none).
pub type CallFuture = Pin<Box<dyn Future<Output = Result<Option<Message>, CallError>> + Send>>;

/// Sends [`ClientCall`]s over a NATS connection: a request for each, whose error reply (the
/// `Nats-Service-Error` headers) becomes [`CallError::Service`]; a publish for calls that
/// expect no reply.
///
/// It is always ready and cheap to clone; wrap it in tower layers for retries, timeouts or
/// limits, and give the stack to a typed client's `with_service`.
#[derive(Clone)]
pub struct Caller {
    client: Client,
}

impl Caller {
    /// A caller that sends through `client`.
    pub fn new(client: &Client) -> Self {
        Caller {
            client: client.clone(),
        }
    }

    /// The connection it sends through.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("client_id", &self.client.client_id())
            .finish()
    }
}

impl Service<ClientCall> for Caller {
    type Response = Option<Message>;
    type Error = CallError;
    type Future = CallFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), CallError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: ClientCall) -> CallFuture {
        let client = self.client.clone();
        Box::pin(async move { send(&client, call).await })
    }
}

/// Sends `call` through `client`.
async fn send(client: &Client, call: ClientCall) -> Result<Option<Message>, CallError> {
    let payload = call.payload.unwrap_or_default();
    if !call.expects_reply {
        match call.headers {
            Some(headers) => {
                client
                    .publish_with_headers(&call.subject, headers, payload)
                    .await
            }
            None => client.publish(&call.subject, payload).await,
        }
        .map_err(CallError::Publish)?;
        return Ok(None);
    }
    let mut options = RequestOptions::new().payload(payload);
    if let Some(headers) = call.headers {
        options = options.headers(headers);
    }
    if let Some(timeout) = call.timeout {
        options = options.timeout(timeout);
    }
    send_request(client, &call.subject, options).await.map(Some)
}
