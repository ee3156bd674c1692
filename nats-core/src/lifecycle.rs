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
    /// The state after every change, for those who must react to reconnects (JetStream
    /// consumers re-pull after one).
    changes: watch::Sender<State>,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Lifecycle {
            state: AtomicU8::new(State::Connecting.as_u8()),
            closing: AtomicBool::new(false),
            closed: watch::channel(false).0,
            changes: watch::channel(State::Connecting).0,
        }
    }

    pub(crate) fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Moves to `state`, unless the client is closed (for good) or, for any state but
    /// `Closed`, draining (a drain carries on across reconnects).
    pub(crate) fn set_state(&self, state: State) {
        let changed = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                let current = State::from_u8(current);
                let keep = current == State::Closed
                    || (current == State::Draining && state != State::Closed);
                (!keep).then_some(state.as_u8())
            });
        if changed.is_ok() {
            self.changes.send_replace(state);
        }
    }

    /// A receiver that wakes on every change of state (it may skip states that came and
    /// went between two looks; compare the reconnect count to see reconnects).
    #[cfg_attr(not(feature = "jetstream"), allow(dead_code))]
    pub(crate) fn watch_state(&self) -> watch::Receiver<State> {
        self.changes.subscribe()
    }

    /// Starts draining; false if the client is draining or closed already.
    pub(crate) fn begin_draining(&self) -> bool {
        let began = self
            .state
            .fetch_update(
                Ordering::AcqRel,
                Ordering::Acquire,
                |current| match State::from_u8(current) {
                    State::Draining | State::Closed => None,
                    _ => Some(State::Draining.as_u8()),
                },
            )
            .is_ok();
        if began {
            self.changes.send_replace(State::Draining);
        }
        began
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_is_for_good_and_draining_survives_reconnects() {
        let life = Lifecycle::new();
        life.set_state(State::Connected);
        assert!(life.begin_draining());
        assert!(!life.begin_draining(), "once");
        life.set_state(State::Reconnecting);
        life.set_state(State::Connected);
        assert_eq!(life.state(), State::Draining);
        life.set_state(State::Closed);
        life.set_state(State::Connected);
        assert_eq!(life.state(), State::Closed);
        assert!(!life.begin_draining());
    }

    #[test]
    fn changes_are_watched_and_refused_ones_are_not_sent() {
        let life = Lifecycle::new();
        let mut watch = life.watch_state();
        life.set_state(State::Connected);
        assert!(watch.has_changed().unwrap_or(false));
        assert_eq!(*watch.borrow_and_update(), State::Connected);
        life.set_state(State::Reconnecting);
        life.set_state(State::Connected);
        assert!(
            watch.has_changed().unwrap_or(false),
            "seen even if skipped over"
        );
        assert_eq!(*watch.borrow_and_update(), State::Connected);
        life.set_state(State::Closed);
        life.set_state(State::Connected);
        assert_eq!(
            *watch.borrow_and_update(),
            State::Closed,
            "a refused change is not sent"
        );
    }
}
