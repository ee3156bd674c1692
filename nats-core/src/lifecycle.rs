//! Where the client is in its life, shared by the handles and the connection task.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tokio::sync::watch;

/// Where the client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Making the first connection.
    Connecting,
    /// Connected to a server.
    Connected,
    /// The connection was lost and the client is making a new one.
    Reconnecting,
    /// Draining subscriptions before closing.
    Draining,
    /// Closed for good.
    Closed,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Connecting,
            1 => State::Connected,
            2 => State::Reconnecting,
            3 => State::Draining,
            _ => State::Closed,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            State::Connecting => 0,
            State::Connected => 1,
            State::Reconnecting => 2,
            State::Draining => 3,
            State::Closed => 4,
        }
    }
}

/// The state, the closing flag and the signal of the end.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    state: AtomicU8,
    /// Set when the connection task must write what is left and stop.
    closing: AtomicBool,
    /// Turns true once the connection task has finished.
    closed: watch::Sender<bool>,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Lifecycle {
            state: AtomicU8::new(State::Connecting.as_u8()),
            closing: AtomicBool::new(false),
            closed: watch::channel(false).0,
        }
    }

    pub(crate) fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state(&self, state: State) {
        self.state.store(state.as_u8(), Ordering::Release);
    }

    /// Whether the client is closed or closing: nothing more may be queued.
    pub(crate) fn is_closed_or_closing(&self) -> bool {
        self.state() == State::Closed || self.is_closing()
    }

    /// Whether the connection task should write what is left and stop.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn begin_closing(&self) {
        self.closing.store(true, Ordering::Release);
    }

    /// Marks the client closed for good and wakes whoever waits for it.
    pub(crate) fn finish(&self) {
        self.set_state(State::Closed);
        self.closed.send_replace(true);
    }

    /// Waits until the connection task has finished.
    pub(crate) async fn wait_closed(&self) {
        let mut closed = self.closed.subscribe();
        let _ = closed.wait_for(|closed| *closed).await;
    }
}
