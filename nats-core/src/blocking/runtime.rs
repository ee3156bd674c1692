//! The runtime the blocking client runs on, and how a plain thread waits for a future.
//!
//! One multi-threaded tokio runtime with a single worker, started on first use and kept for the
//! life of the process, drives every blocking client's connection. A caller's thread never
//! runs a runtime of its own: it enters this runtime's context (so timers and sockets register
//! with it), polls the future itself, and parks between wake-ups. That works from `fn main`,
//! from a thread of a program with its own tokio runtime, and from inside a worker of a
//! multi-threaded runtime (there, `block_in_place` hands the worker's other tasks away first),
//! and nothing ever calls `Runtime::block_on` inside a runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

/// Wakes the thread that waits.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The shared runtime; `None` if it could not be started (no threads left, say).
fn runtime() -> Option<&'static Runtime> {
    static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("nats-blocking")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
}

/// The shared runtime's handle.
pub(crate) fn handle() -> Option<&'static Handle> {
    runtime().map(Runtime::handle)
}

/// Runs `future` to completion on the calling thread, in `handle`'s context.
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let mut future = pin!(future);
    loop {
        // Without a deadline the wait only ends with the output; the loop is for the type.
        if let Some(output) = wait(handle, future.as_mut(), None) {
            return output;
        }
    }
}

/// [`block_on`] for at most `timeout`: `None` when the future was not done by then (it is
/// dropped by the caller, which cancels it).
pub(crate) fn block_on_timeout<F: Future>(
    handle: &Handle,
    future: F,
    timeout: Duration,
) -> Option<F::Output> {
    wait(handle, future, Some(Instant::now() + timeout))
}

fn wait<F: Future>(handle: &Handle, future: F, deadline: Option<Instant>) -> Option<F::Output> {
    // What this thread is, before entering the shared runtime's context.
    let in_multi_thread_runtime = Handle::try_current()
        .is_ok_and(|current| current.runtime_flavor() == RuntimeFlavor::MultiThread);
    let park = || {
        let _context = handle.enter();
        park_on(future, deadline)
    };
    if in_multi_thread_runtime {
        // A worker of a multi-threaded runtime (ours, or the program's): its other tasks move
        // to another thread while this one waits. Elsewhere in such a runtime (a blocking
        // thread) it just runs the closure.
        tokio::task::block_in_place(park)
    } else {
        // A plain thread, or the thread of a current-thread runtime (whose other tasks wait
        // meanwhile: call the blocking client from `spawn_blocking` there).
        park()
    }
}

/// Polls `future` on this thread, parking until woken, until it is done or `deadline` passes.
fn park_on<F: Future>(future: F, deadline: Option<Instant>) -> Option<F::Output> {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        match deadline {
            None => thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return None;
                }
                thread::park_timeout(deadline - now);
            }
        }
    }
}

/// Polls `future` once, without waiting: its output if it was ready.
pub(crate) fn poll_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
