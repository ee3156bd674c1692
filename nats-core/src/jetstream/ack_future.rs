//! Asynchronous acknowledged publishing: [`Context::publish_async`] sends at once and
//! returns a [`PubAckFuture`] for the acknowledgement.
//!
//! Every publish registers its reply in the client's request multiplexer (one wildcard
//! inbox subscription for all of them, the connection task hands each reply straight to
//! its future) holding one permit of the context's semaphore. The permit goes back the
//! moment the acknowledgement arrives, read or not, so the bound counts what the server has
//! not answered yet, and a publish past the bound waits for one to arrive: back-pressure,
//! never an unbounded queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{oneshot, Semaphore, TryAcquireError};
use tokio::time::Instant;

use super::context::Context;
use super::errors::{PublishError, PublishErrorKind};
use super::publish::{parse_pub_ack, PubAck, PublishOptions};
use crate::error::PublishError as CorePublishError;
use crate::header::HeaderMap;
use crate::message::Message;
use crate::request::{ReplyTicket, RequestMux};
use crate::subject::validate_publish_subject;

/// The acknowledgement of a message sent by [`Context::publish_async`]: a future of the
/// [`PubAck`] (or call [`wait`](Self::wait)).
///
/// Dropping it gives up on reading the acknowledgement; the message was sent all the same,
/// and its place in the context's bound stays taken until the acknowledgement arrives (or
/// the timeout passes), so fire-and-forget publishing followed by
/// [`wait_for_acks`](Context::wait_for_acks) never has more than `max_pending_acks`
/// unacknowledged. An acknowledgement that already arrived is read without a timer or an
/// allocation.
#[derive(Debug)]
#[must_use = "the acknowledgement tells whether the message was stored"]
pub struct PubAckFuture {
    state: State,
}

enum State {
    /// Waiting for the first reply.
    Waiting(Waiting),
    /// The stream had no responders: sending again, in an async block of its own.
    Retrying(Pin<Box<dyn Future<Output = Result<PubAck, PublishError>> + Send>>),
    /// The output was taken.
    Done,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            State::Waiting(waiting) => f.debug_tuple("Waiting").field(waiting).finish(),
            State::Retrying(_) => f.write_str("Retrying"),
            State::Done => f.write_str("Done"),
        }
    }
}

/// A sent message and the reply it waits for.
#[derive(Debug)]
struct Waiting {
    context: Context,
    ticket: ReplyTicket,
    reply: oneshot::Receiver<Message>,
    deadline: Instant,
    /// Armed on the first poll that finds no reply.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// What a retry after "no responders" sends again.
    resend: Resend,
}

/// An acknowledgement nobody waits for still holds its place in the bound until it arrives
/// (or its deadline passes): dropping futures never lets more than `max_pending_acks`
/// messages be unacknowledged.
impl Drop for Waiting {
    fn drop(&mut self) {
        self.ticket.keep_until(self.deadline.into_std());
    }
}

/// A message kept for sending again.
#[derive(Debug)]
struct Resend {
    subject: String,
    headers: Option<HeaderMap>,
    payload: Bytes,
    retries_left: u32,
}

impl PubAckFuture {
    /// Waits for the acknowledgement: the [`PubAck`], or the stream's error.
    ///
    /// A "no responders" is sent again (the options' retries, within the timeout): a
    /// stream being given a new leader answers nothing for a moment.
    ///
    /// # Errors
    /// As [`Context::publish_with`].
    pub async fn wait(self) -> Result<PubAck, PublishError> {
        self.await
    }

    /// The reply subject the acknowledgement comes to, while it is awaited.
    pub fn reply_subject(&self) -> Option<&str> {
        match &self.state {
            State::Waiting(waiting) => Some(&waiting.ticket.reply),
            _ => None,
        }
    }
}

impl Future for PubAckFuture {
    type Output = Result<PubAck, PublishError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Waiting(mut waiting) => match waiting.poll_reply(cx) {
                    Poll::Ready(Ok(reply)) if reply.is_no_responders() => {
                        this.state = State::Retrying(Box::pin(waiting.retry()));
                    }
                    Poll::Ready(result) => {
                        return Poll::Ready(result.and_then(|reply| parse_pub_ack(&reply)));
                    }
                    Poll::Pending => {
                        this.state = State::Waiting(waiting);
                        return Poll::Pending;
                    }
                },
                State::Retrying(mut retrying) => match retrying.as_mut().poll(cx) {
                    Poll::Ready(result) => return Poll::Ready(result),
                    Poll::Pending => {
                        this.state = State::Retrying(retrying);
                        return Poll::Pending;
                    }
                },
                State::Done => {
                    return Poll::Ready(Err(PublishError::with_source(
                        PublishErrorKind::InvalidResponse,
                        "acknowledgement polled after it was taken",
                    )))
                }
            }
        }
    }
}

impl Waiting {
    /// The reply, the timeout, or the reply's loss.
    fn poll_reply(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<Message, PublishError>> {
        if let Poll::Ready(received) = Pin::new(&mut self.reply).poll(cx) {
            return Poll::Ready(received.map_err(|_| self.lost_reply()));
        }
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(PublishErrorKind::TimedOut.into())),
            Poll::Pending => Poll::Pending,
        }
    }

    /// After a "no responders": sends again while retries and time are left.
    async fn retry(mut self) -> Result<PubAck, PublishError> {
        loop {
            let wait = self.context.options().publish_retry_wait;
            if self.resend.retries_left == 0 || Instant::now() + wait >= self.deadline {
                return Err(self.no_stream_or_not_enabled().await);
            }
            self.resend.retries_left -= 1;
            tokio::time::sleep(wait).await;
            let resend = &self.resend;
            let (ticket, reply) = self
                .context
                .send_tracked(
                    &resend.subject,
                    resend.headers.as_ref(),
                    &resend.payload,
                    self.deadline,
                )
                .await?;
            (self.ticket, self.reply) = (ticket, reply);
            let reply = match tokio::time::timeout_at(self.deadline, &mut self.reply).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(_)) => return Err(self.lost_reply()),
                Err(_) => return Err(PublishErrorKind::TimedOut.into()),
            };
            if !reply.is_no_responders() {
                return parse_pub_ack(&reply);
            }
        }
    }

    /// The reply can no longer come: the client closed, or the server refused the inbox.
    fn lost_reply(&self) -> PublishError {
        match self.context.client().shared().mux.refusal() {
            Some(refusal) => PublishError::with_source(PublishErrorKind::Publish, refusal),
            None => PublishErrorKind::Closed.into(),
        }
    }

    async fn no_stream_or_not_enabled(&self) -> PublishError {
        if self.context.api_answers().await {
            PublishErrorKind::NoStream.into()
        } else {
            PublishErrorKind::NotEnabled.into()
        }
    }
}

impl Context {
    /// Publishes `payload` to `subject` without waiting for the acknowledgement: the
    /// returned [`PubAckFuture`] resolves to it. Waits first while the context's
    /// `max_pending_acks` acknowledgements are outstanding.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), nats_core::jetstream::PublishError> {
    /// let mut acks = Vec::new();
    /// for i in 0..1000 {
    ///     acks.push(js.publish_async("events.tick", format!("tick {i}")).await?);
    /// }
    /// for ack in acks {
    ///     ack.await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`PublishErrorKind::Publish`] when the message cannot be sent (invalid subject or
    /// headers, too large), [`PublishErrorKind::Closed`], and
    /// [`PublishErrorKind::TimedOut`] when no acknowledgement made room within the timeout
    /// (then nothing was sent). The stream's answer comes from the future.
    pub async fn publish_async(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<PubAckFuture, PublishError> {
        self.publish_async_with(subject, payload, PublishOptions::default())
            .await
    }

    /// [`publish_async`](Self::publish_async) with a message id, checks, a TTL or headers.
    ///
    /// # Errors
    /// As [`publish_async`](Self::publish_async).
    pub async fn publish_async_with(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
        options: PublishOptions,
    ) -> Result<PubAckFuture, PublishError> {
        let subject = subject.as_ref();
        validate_publish_subject(subject)
            .map_err(|e| PublishError::with_source(PublishErrorKind::Publish, e))?;
        let deadline = Instant::now() + options.timeout.unwrap_or(self.timeout());
        let headers = options.into_headers();
        if let Some(headers) = &headers {
            headers
                .validate()
                .map_err(|e| PublishError::with_source(PublishErrorKind::Publish, e))?;
        }
        let payload = payload.into();
        let (ticket, reply) = self
            .send_tracked(subject, headers.as_ref(), &payload, deadline)
            .await?;
        let waiting = Waiting {
            context: self.clone(),
            ticket,
            reply,
            deadline,
            timer: None,
            resend: Resend {
                subject: subject.to_owned(),
                headers,
                payload,
                retries_left: self.options().publish_retries,
            },
        };
        Ok(PubAckFuture {
            state: State::Waiting(waiting),
        })
    }

    /// Waits until every acknowledgement outstanding when called has arrived (read or not),
    /// within the context's timeout. Publishes made meanwhile wait behind it.
    ///
    /// # Errors
    /// [`PublishErrorKind::TimedOut`] when some did not arrive in time (an acknowledgement
    /// that never comes keeps its place until its timeout passes),
    /// [`PublishErrorKind::Closed`].
    pub async fn wait_for_acks(&self) -> Result<(), PublishError> {
        let permits = self.ack_permits();
        let all = u32::try_from(self.max_pending_acks()).unwrap_or(u32::MAX);
        match tokio::time::timeout(self.timeout(), permits.acquire_many(all)).await {
            Ok(Ok(_all)) => Ok(()),
            Ok(Err(_)) => Err(PublishErrorKind::Closed.into()),
            Err(_) => Err(PublishError::with_source(
                PublishErrorKind::TimedOut,
                format!("{} acknowledgements still outstanding", self.pending_acks()),
            )),
        }
    }

    /// Acknowledgements sent for and not arrived yet.
    pub fn pending_acks(&self) -> usize {
        self.max_pending_acks()
            .saturating_sub(self.ack_permits().available_permits())
    }

    /// How many acknowledgements may be outstanding at once.
    pub fn max_pending_acks(&self) -> usize {
        self.options().max_pending_acks
    }

    /// Takes a permit (waiting until `deadline` for one), registers the reply, sends.
    pub(crate) async fn send_tracked(
        &self,
        subject: &str,
        headers: Option<&HeaderMap>,
        payload: &Bytes,
        deadline: Instant,
    ) -> Result<(ReplyTicket, oneshot::Receiver<Message>), PublishError> {
        let permit = acquire(
            self.ack_permits(),
            &self.client().shared().mux,
            deadline,
            self.max_pending_acks(),
        )
        .await?;
        let client = self.client();
        let (ticket, reply) = client
            .register_reply(Some(permit))
            .await
            .map_err(PublishError::from_request)?;
        let sent = client
            .shared()
            .publish(subject, Some(&ticket.reply), headers, payload);
        match tokio::time::timeout_at(deadline, sent).await {
            Ok(Ok(())) => Ok((ticket, reply)),
            Ok(Err(err)) => Err(from_core_publish(err)),
            Err(_) => Err(PublishError::with_source(
                PublishErrorKind::TimedOut,
                "the message could not be queued in time; nothing was sent",
            )),
        }
    }
}

/// How often a publisher waiting for room looks for abandoned acknowledgements whose time
/// is up.
const SWEEP_EVERY: Duration = Duration::from_millis(100);

/// One permit, at once if there is one, else waiting until `deadline`. While it waits it
/// gives back the places of abandoned acknowledgements that can no longer arrive.
///
/// A publisher that finds the bound full waits until [`refill`] places are free, then takes
/// one and leaves the rest for the publishes that follow: acknowledgements arrive in bursts,
/// and a burst then wakes the publisher once instead of once per acknowledgement (each
/// wake-up across threads costs more than the publish it lets through). When they trickle in
/// (a stream acknowledging slowly), it waits for that many only [`REFILL_WAIT`], then for one.
async fn acquire(
    permits: &Arc<Semaphore>,
    mux: &RequestMux,
    deadline: Instant,
    max: usize,
) -> Result<tokio::sync::OwnedSemaphorePermit, PublishError> {
    let mut wanted = refill(max);
    loop {
        match Arc::clone(permits).try_acquire_owned() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(PublishErrorKind::Closed.into()),
            Err(TryAcquireError::NoPermits) => {}
        }
        mux.sweep_abandoned(std::time::Instant::now());
        let patience = if wanted > 1 { REFILL_WAIT } else { SWEEP_EVERY };
        let slice = deadline.min(Instant::now() + patience);
        match tokio::time::timeout_at(slice, Arc::clone(permits).acquire_many_owned(wanted)).await {
            Ok(Ok(mut free)) => match free.split(1) {
                // The others go back at once, for the next publishes' `try_acquire`.
                Some(one) => return Ok(one),
                None => return Ok(free),
            },
            Ok(Err(_)) => return Err(PublishErrorKind::Closed.into()),
            Err(_) if Instant::now() >= deadline => {
                return Err(PublishError::with_source(
                    PublishErrorKind::TimedOut,
                    "no acknowledgement made room in time; nothing was sent",
                ))
            }
            // Acknowledgements trickle in: one free place is enough from now on.
            Err(_) => wanted = 1,
        }
    }
}

/// How long a publisher waits for [`refill`] free places before it settles for one: a burst
/// of acknowledgements brings that many in well under a millisecond.
const REFILL_WAIT: Duration = Duration::from_millis(2);

/// How many free places a publisher waiting for room waits for: an eighth of the bound, at
/// least one and at most 64.
fn refill(max_pending_acks: usize) -> u32 {
    u32::try_from((max_pending_acks / 8).clamp(1, 64)).unwrap_or(1)
}

fn from_core_publish(err: CorePublishError) -> PublishError {
    match err.kind() {
        crate::error::PublishErrorKind::Closed => PublishErrorKind::Closed.into(),
        _ => PublishError::with_source(PublishErrorKind::Publish, err),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::refill;
    use crate::jetstream::ContextOptions;
    use crate::scripted_server::{info, ScriptedDialer, STEP};
    use crate::ConnectOptions;

    /// Acknowledgements that trickle in one at a time still let publishers through, one each:
    /// waiting for a batch of free places must not stall a slow stream.
    #[tokio::test]
    async fn a_trickle_of_acks_lets_publishes_through_one_by_one() {
        let dialer = ScriptedDialer::default();
        let mut listener = dialer.listen("a:1");
        let connecting = tokio::spawn(
            ConnectOptions::new()
                .dialer(dialer.clone())
                .connect("nats://a:1"),
        );
        let mut server = listener.accept_with_info(&info("")).await;
        let client = tokio::time::timeout(STEP, connecting)
            .await
            .expect("in time")
            .expect("join")
            .expect("connect");
        let js = client.jetstream_with(
            ContextOptions::new()
                .max_pending_acks(16)
                .timeout(Duration::from_secs(3)),
        );
        let publisher = tokio::spawn(async move {
            for _ in 0..19 {
                drop(
                    js.publish_async("s.x", "m")
                        .await
                        .expect("room within the timeout"),
                );
            }
        });
        let sub = server.expect_line("SUB ").await;
        let sid = sub.rsplit(' ').next().expect("sid").to_owned();
        let mut replies = Vec::new();
        while replies.len() < 16 {
            let line = server.expect_line("PUB s.x ").await;
            replies.push(line.split(' ').nth(2).expect("reply").to_owned());
            server.read_line().await;
        }
        // Three acks, far apart: each lets one more publish out.
        let ack = r#"{"stream":"S","seq":1}"#;
        for (n, reply) in replies.iter().take(3).enumerate() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let frame = format!("MSG {reply} {sid} {}\r\n{ack}\r\n", ack.len());
            server.send(frame.as_bytes()).await;
            let line = server.expect_line("PUB s.x ").await;
            assert!(
                line.starts_with("PUB s.x "),
                "publish {} after ack {n}",
                17 + n
            );
            server.read_line().await;
        }
        tokio::time::timeout(Duration::from_secs(1), publisher)
            .await
            .expect("the publisher finished once three places came back")
            .expect("join");
    }

    #[test]
    fn a_waiting_publisher_waits_for_an_eighth_of_the_bound_within_one_and_64() {
        assert_eq!(refill(1), 1);
        assert_eq!(refill(7), 1);
        assert_eq!(refill(256), 32);
        assert_eq!(refill(100_000), 64);
    }
}
