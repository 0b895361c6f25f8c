//! Forwarding the event stream in order and without loss, whatever the queue did.
//!
//! Events reach the sink in the order their writes finished, not always in stream order
//! (concurrent writers race once their commits are answered), and a full queue drops some.
//! Each writer's positions are gapless and in commit order, and a conversation always
//! writes through one writer: so the forwarder hands out each writer's events in position
//! order, and when an event arrives ahead of the next expected position it first reads the
//! positions in between from the store (they have committed: a later position of the same
//! writer has). An event it handed out already is dropped. Now and then, and when the queue
//! closes, it also reads up to the store's head, so that an event lost with nothing after it
//! goes out too.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use chat_domain::{ChatError, STREAM_WRITERS, StreamEvent, StreamRepo, StreamToken};
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};

use crate::EventLine;

/// How often the forwarder reads up to the store's head, for a lost event with nothing after it.
const CATCH_UP_EVERY: Duration = Duration::from_secs(1);

/// Takes the events of a [`crate::QueueSink`] and hands them out in stream order, with what
/// the queue dropped read back from the store.
pub struct Forwarder<S> {
    store: S,
    queue: mpsc::Receiver<StreamEvent>,
    /// The last position handed out, per writer.
    forwarded: StreamToken,
    catch_up: Interval,
    closed: bool,
}

impl<S: StreamRepo + Send + Sync> Forwarder<S> {
    /// A forwarder of every event committed from now on (from the store's head).
    pub async fn new(store: S, queue: mpsc::Receiver<StreamEvent>) -> Result<Self, ChatError> {
        let forwarded = store.stream_head().await?;
        // The head was just read: the first catch-up is due a period from now.
        let first = tokio::time::Instant::now() + CATCH_UP_EVERY;
        let mut catch_up = tokio::time::interval_at(first, CATCH_UP_EVERY);
        catch_up.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Ok(Forwarder {
            store,
            queue,
            forwarded,
            catch_up,
            closed: false,
        })
    }

    /// The next events in stream order (at least one); `None` once the queue is closed (every
    /// sink dropped, with the service that held it) and everything up to the store's head has
    /// been handed out.
    pub async fn next(&mut self) -> Result<Option<Vec<StreamEvent>>, ChatError> {
        while !self.closed {
            let events = tokio::select! {
                event = self.queue.recv() => match event {
                    Some(event) => self.admit(event).await?,
                    None => {
                        self.closed = true;
                        self.read_to_head().await?
                    }
                },
                _ = self.catch_up.tick() => self.read_to_head().await?,
            };
            if !events.is_empty() {
                return Ok(Some(events));
            }
        }
        Ok(None)
    }

    /// Writes every event as one JSON line ([`EventLine`]) to `out` until the queue closes;
    /// returns how many lines it wrote. A host with a real queue (NATS, Kafka, SQS) publishes
    /// each line there instead, and retries before it takes the next.
    pub async fn run(mut self, mut out: impl Write) -> anyhow::Result<u64> {
        let mut lines = 0;
        while let Some(events) = self.next().await.context("reading the event stream")? {
            for event in &events {
                serde_json::to_writer(&mut out, &EventLine::new(event)?)?;
                out.write_all(b"\n")?;
                lines += 1;
            }
            out.flush()?;
        }
        Ok(lines)
    }

    /// `event`, preceded by the positions of its writer that did not come through the queue;
    /// nothing when it was handed out already.
    async fn admit(&mut self, event: StreamEvent) -> Result<Vec<StreamEvent>, ChatError> {
        let at = event.position;
        let last = self.forwarded.get(at.writer);
        if at.writer >= STREAM_WRITERS || at.position <= last {
            return Ok(Vec::new());
        }
        let mut events = if at.position > last + 1 {
            self.store
                .stream_range(at.writer, last, at.position - 1)
                .await?
        } else {
            Vec::new()
        };
        events.push(event);
        self.forwarded = self.forwarded.with(at);
        Ok(events)
    }

    /// Every event the store holds past what was handed out, writer by writer.
    async fn read_to_head(&mut self) -> Result<Vec<StreamEvent>, ChatError> {
        let head = self.store.stream_head().await?;
        let mut events = Vec::new();
        for writer in 0..STREAM_WRITERS {
            let (last, upto) = (self.forwarded.get(writer), head.get(writer));
            if upto > last {
                events.extend(self.store.stream_range(writer, last, upto).await?);
            }
        }
        self.forwarded = self.forwarded.max(&head);
        Ok(events)
    }
}
