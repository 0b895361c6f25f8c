//! The host's event sink: a bounded queue between the writes and the forwarder.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chat_domain::{EventSink, StreamEvent};
use tokio::sync::mpsc;

/// Hands each committed event to a bounded tokio channel. [`EventSink::publish`] runs on the
/// task that did the write, right after its commit, and must not block it: when the queue is
/// full the event is dropped and counted, and the [`crate::Forwarder`] reads it back from
/// the store by its position (the sink contract: lose an event, never invent one).
#[derive(Debug, Clone)]
pub struct QueueSink {
    queue: mpsc::Sender<StreamEvent>,
    dropped: Arc<AtomicU64>,
}

impl QueueSink {
    /// A sink holding at most `capacity` events (at least 1) that the forwarder has not taken
    /// yet, and the receiving end for [`crate::Forwarder::new`].
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<StreamEvent>) {
        let (queue, events) = mpsc::channel(capacity.max(1));
        let sink = QueueSink {
            queue,
            dropped: Arc::default(),
        };
        (sink, events)
    }

    /// How many events a full (or closed) queue has dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl EventSink for QueueSink {
    fn publish(&self, event: StreamEvent) {
        if self.queue.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
