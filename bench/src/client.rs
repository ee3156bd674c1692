//! The two clients behind one small trait, so a scenario over plain NATS is written once and
//! measures both libraries with the same harness code.
//!
//! Each method is a thin call into the library, written the way its README would: a scenario
//! should measure the library, not the adapter. Scenarios that need more than this (a service
//! framework, JetStream) write their two sides directly instead.

use std::future::Future;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

/// Boxed error of one benchmark run.
pub(crate) type BenchError = Box<dyn std::error::Error + Send + Sync>;

/// Per-subscription pending limits for scenarios whose consumer may fall behind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Messages a subscription may hold.
    pub(crate) msgs: usize,
    /// Payload bytes a subscription may hold (nats-core only: async-nats counts messages).
    pub(crate) bytes: usize,
}

/// What a scenario needs from a client.
pub(crate) trait BenchClient: Clone + Send + Sync + Sized + 'static {
    /// The subscription type.
    type Sub: BenchSub;

    /// Connects; `limits` raises the pending limits of every subscription made later.
    fn connect(
        url: &str,
        limits: Option<Limits>,
    ) -> impl Future<Output = Result<Self, BenchError>> + Send;

    /// Publishes one message.
    fn publish(
        &self,
        subject: &'static str,
        payload: Bytes,
    ) -> impl Future<Output = Result<(), BenchError>> + Send;

    /// Waits until the server has everything published so far.
    fn flush(&self) -> impl Future<Output = Result<(), BenchError>> + Send;

    /// Subscribes to `subject`.
    fn subscribe(
        &self,
        subject: String,
    ) -> impl Future<Output = Result<Self::Sub, BenchError>> + Send;

    /// Sends a request and returns the reply's payload.
    fn request(
        &self,
        subject: &'static str,
        payload: Bytes,
    ) -> impl Future<Output = Result<Bytes, BenchError>> + Send;

    /// Answers every request on `subject` with its own payload, from a spawned task.
    ///
    /// Returns once the subscription is known to the server.
    fn serve_echo(
        &self,
        subject: &'static str,
    ) -> impl Future<Output = Result<JoinHandle<()>, BenchError>> + Send;
}

/// What a scenario needs from a subscription.
pub(crate) trait BenchSub: Send + 'static {
    /// The next message's payload length; `None` when the subscription ended.
    fn next_len(&mut self) -> impl Future<Output = Option<usize>> + Send;

    /// Messages the client dropped for this subscription, when the library counts them.
    fn dropped(&self) -> Option<u64>;
}

/// nats-core: "ours".
#[derive(Clone)]
pub(crate) struct Ours {
    client: nats_core::Client,
    limits: Option<Limits>,
}

impl BenchClient for Ours {
    type Sub = nats_core::Subscriber;

    async fn connect(url: &str, limits: Option<Limits>) -> Result<Self, BenchError> {
        let client = nats_core::connect(url).await?;
        Ok(Ours { client, limits })
    }

    async fn publish(&self, subject: &'static str, payload: Bytes) -> Result<(), BenchError> {
        Ok(self.client.publish(subject, payload).await?)
    }

    async fn flush(&self) -> Result<(), BenchError> {
        Ok(self.client.flush().await?)
    }

    async fn subscribe(&self, subject: String) -> Result<Self::Sub, BenchError> {
        let sub = match self.limits {
            None => self.client.subscribe(subject).await?,
            Some(limits) => {
                let options = nats_core::SubscribeOptions {
                    pending_msgs_limit: Some(limits.msgs),
                    pending_bytes_limit: Some(limits.bytes),
                    ..Default::default()
                };
                self.client.subscribe_with(subject, options).await?
            }
        };
        Ok(sub)
    }

    async fn request(&self, subject: &'static str, payload: Bytes) -> Result<Bytes, BenchError> {
        Ok(self.client.request(subject, payload).await?.payload)
    }

    async fn serve_echo(&self, subject: &'static str) -> Result<JoinHandle<()>, BenchError> {
        let mut sub = self.client.subscribe(subject).await?;
        self.client.flush().await?;
        let client = self.client.clone();
        Ok(tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                if let Some(reply) = msg.reply {
                    if client.publish(reply, msg.payload).await.is_err() {
                        return;
                    }
                }
            }
        }))
    }
}

impl BenchSub for nats_core::Subscriber {
    async fn next_len(&mut self) -> Option<usize> {
        self.next().await.map(|msg| msg.payload.len())
    }

    fn dropped(&self) -> Option<u64> {
        Some(nats_core::Subscriber::dropped(self))
    }
}

/// async-nats: "theirs".
#[derive(Clone)]
pub(crate) struct Theirs {
    client: async_nats::Client,
}

impl BenchClient for Theirs {
    type Sub = async_nats::Subscriber;

    async fn connect(url: &str, limits: Option<Limits>) -> Result<Self, BenchError> {
        let mut options = async_nats::ConnectOptions::new();
        if let Some(limits) = limits {
            options = options.subscription_capacity(limits.msgs);
        }
        let client = options.connect(url).await?;
        Ok(Theirs { client })
    }

    async fn publish(&self, subject: &'static str, payload: Bytes) -> Result<(), BenchError> {
        Ok(self.client.publish(subject, payload).await?)
    }

    async fn flush(&self) -> Result<(), BenchError> {
        Ok(self.client.flush().await?)
    }

    async fn subscribe(&self, subject: String) -> Result<Self::Sub, BenchError> {
        Ok(self.client.subscribe(subject).await?)
    }

    async fn request(&self, subject: &'static str, payload: Bytes) -> Result<Bytes, BenchError> {
        Ok(self.client.request(subject, payload).await?.payload)
    }

    async fn serve_echo(&self, subject: &'static str) -> Result<JoinHandle<()>, BenchError> {
        let mut sub = self.client.subscribe(subject).await?;
        self.client.flush().await?;
        let client = self.client.clone();
        Ok(tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                if let Some(reply) = msg.reply {
                    if client.publish(reply, msg.payload).await.is_err() {
                        return;
                    }
                }
            }
        }))
    }
}

impl BenchSub for async_nats::Subscriber {
    async fn next_len(&mut self) -> Option<usize> {
        self.next().await.map(|msg| msg.payload.len())
    }

    fn dropped(&self) -> Option<u64> {
        None
    }
}
