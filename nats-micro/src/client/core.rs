//! [`ClientCore`]: what every typed client holds — its tower stack and per-call options.

use std::time::Duration;

use nats_core::{Client, HeaderMap};
use tower::{Layer, Service};

use super::call::ClientCall;
use super::caller::Caller;
use super::pending::Pending;
use crate::error::CallError;

/// The state of a typed client: the tower service calls go through (a [`Caller`] unless
/// layers were added) and the options every call starts with.
///
/// Generated clients wrap one and forward `with_timeout`, `with_headers`, `with_header`,
/// `layer` and `with_service` to it; it is usable on its own for clients written by hand.
#[derive(Debug, Clone)]
pub struct ClientCore<S = Caller> {
    service: S,
    timeout: Option<Duration>,
    headers: Option<HeaderMap>,
}

impl ClientCore<Caller> {
    /// A core that sends through `client` with the client's request timeout and no headers.
    pub fn new(client: &Client) -> Self {
        ClientCore::with_service(Caller::new(client))
    }
}

impl<S> ClientCore<S> {
    /// A core whose calls go through `service`: a [`Caller`] in tower layers, or anything
    /// else that answers [`ClientCall`]s (a fake in tests).
    pub fn with_service(service: S) -> Self {
        ClientCore {
            service,
            timeout: None,
            headers: None,
        }
    }

    /// Every call waits at most `timeout` for its reply, instead of the client's request
    /// timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Every call sends `headers`, instead of those set before (arguments that set headers
    /// win for the names they set).
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    /// Every call sends the header `name: value`, besides the headers already set (a value
    /// set before for `name` is replaced).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .get_or_insert_with(HeaderMap::new)
            .insert(name, value);
        self
    }

    /// The same options with `layer` around the service.
    pub fn layer<L: Layer<S>>(self, layer: L) -> ClientCore<L::Service> {
        ClientCore {
            service: layer.layer(self.service),
            timeout: self.timeout,
            headers: self.headers,
        }
    }

    /// The service calls go through.
    pub fn service(&self) -> &S {
        &self.service
    }

    /// A call of `endpoint` on `subject`, with this core's options.
    pub fn call(&self, endpoint: &'static str, subject: String) -> ClientCall {
        let mut call = ClientCall::new(endpoint, subject);
        call.timeout = self.timeout;
        call.headers = self.headers.clone();
        call
    }
}

impl<S> ClientCore<S>
where
    S: Service<ClientCall> + Clone,
{
    /// Sends `call` (or fails with why it could not be built) through the service; the
    /// [`Pending`] call decodes the reply as the endpoint's reply type `R` does.
    ///
    /// Its errors: [`CallError::Service`] for an error reply, [`CallError::Request`] when the
    /// request fails, [`CallError::Decode`] when the reply is not an `R`, and whatever the
    /// layers fail with.
    pub fn send<R>(&self, call: Result<ClientCall, CallError>) -> Pending<S, R> {
        Pending::new(self.service.clone(), call)
    }
}
