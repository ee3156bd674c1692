//! Helpers shared by the `core_*` integration tests: bounded waits, reading a subscription to
//! its end, an echo responder and an event recorder.
//!
//! Every wait is bounded by [`WAIT`], so a bug makes a test fail instead of hanging.

// Each test file is its own crate and uses only some of these helpers.
#![allow(dead_code, unused_imports)]

use nats_core::{Client, ConnectOptions, Event, Message, State, Subscriber};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(crate) use nats_tests::{within, WAIT};

/// The next message of `sub`, failing the test if the stream ends or nothing arrives in time.
pub(crate) async fn next_msg(sub: &mut Subscriber) -> Message {
    within("next message", sub.next())
        .await
        .expect("subscription ended before the expected message")
}

/// Reads `sub` until its stream ends and returns the payloads as strings.
pub(crate) async fn read_to_end(sub: &mut Subscriber) -> Vec<String> {
    let mut payloads = Vec::new();
    while let Some(msg) = within("end of the subscription", sub.next()).await {
        payloads.push(payload_string(&msg));
    }
    payloads
}

/// Everything `sub` received for what `client` published so far.
///
/// After a flush the server has routed every earlier publish, and the messages it sent this
/// client arrived before its `PONG`; unsubscribing then ends the stream right after them.
pub(crate) async fn received_so_far(client: &Client, sub: &mut Subscriber) -> Vec<String> {
    within("flush", client.flush()).await.expect("flush");
    sub.unsubscribe().expect("unsubscribe");
    read_to_end(sub).await
}

/// The payload as an owned UTF-8 string.
pub(crate) fn payload_string(msg: &Message) -> String {
    String::from_utf8(msg.payload.to_vec()).expect("payload is UTF-8")
}

/// Answers every request on `sub` with its own payload and headers.
pub(crate) fn spawn_echo(client: &Client, mut sub: Subscriber) -> JoinHandle<()> {
    let client = client.clone();
    tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            let Some(reply) = msg.reply else { continue };
            // A failure here shows up as a timeout in the test that made the request.
            let _ = match msg.headers {
                Some(headers) => {
                    client
                        .publish_with_headers(reply, headers, msg.payload)
                        .await
                }
                None => client.publish(reply, msg.payload).await,
            };
        }
    })
}

/// Options whose event callback forwards every [`Event`] to the returned receiver.
pub(crate) fn recording_events() -> (ConnectOptions, mpsc::UnboundedReceiver<Event>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let options = ConnectOptions::new().event_callback(move |event| {
        let sender = sender.clone();
        async move {
            // The test may have finished and dropped the receiver.
            let _ = sender.send(event);
        }
    });
    (options, receiver)
}

/// Receives events until one satisfies `wanted`; returns it and those before it.
pub(crate) async fn wait_for_event(
    events: &mut mpsc::UnboundedReceiver<Event>,
    wanted: impl Fn(&Event) -> bool,
) -> (Event, Vec<Event>) {
    let mut before = Vec::new();
    loop {
        let event = within("event", events.recv())
            .await
            .unwrap_or_else(|| panic!("event stream ended; saw {before:?}"));
        if wanted(&event) {
            return (event, before);
        }
        before.push(event);
    }
}

/// The events received so far, without waiting.
pub(crate) fn events_so_far(events: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    seen
}

/// Waits until `client` is in `state`.
pub(crate) async fn wait_for_state(client: &Client, state: State) {
    let reached = async {
        while client.state() != state {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    within("state", reached).await;
}
