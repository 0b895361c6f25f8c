//! A Rust service that embeds the chat rules instead of running `chat-server`: it builds a
//! [`chat_domain::ChatService`] on a store (PostgreSQL in production, the in-memory store in
//! its unit tests) with an event sink of its own, and forwards every committed event, in
//! order and without loss, to its own transport as JSON lines. `docs/embedding.md` walks
//! through it.
//!
//! - [`QueueSink`]: the [`chat_domain::EventSink`], a bounded queue that never blocks a
//!   write (a full queue drops the event and counts it).
//! - [`Forwarder`]: takes the queue's events, delivers each stream writer's events in
//!   position order and reads what the queue dropped back from the store.
//! - [`EventLine`]: the host's own line format.
//! - [`Host`]: the host's own operation on top of the service (signing a user up with a
//!   welcome message that a retry never sends twice).

mod forwarder;
mod host;
mod line;
mod queue;

#[cfg(test)]
mod memory_tests;

pub use forwarder::Forwarder;
pub use host::Host;
pub use line::EventLine;
pub use queue::QueueSink;
