//! Webhooks for offline users: when a message reaches members none of whose sockets is
//! connected, the server POSTs a signed JSON event to the host application
//! (`CHAT_WEBHOOK_URL`), which can send them a push notification.
//!
//! Durable and at least once: the append batch writes each message's outbox row in the
//! message's own transaction (`chat_store_pg`, migration 12); a [`Dispatcher`] on every node
//! claims due rows (one node each), posts them signed ([`signature`]) with the event id as
//! idempotency key, retries failures with a doubling backoff up to a cap, and dead-letters an
//! event after its last attempt. The admin API (chat-api) lists and requeues dead letters.
//! docs/operations.md documents the settings, the headers and a verification snippet.

mod dispatcher;
pub mod event;
pub mod signature;

pub use dispatcher::{
    ATTEMPT_HEADER, ATTEMPTS_METRIC, Connected, Dispatcher, ID_HEADER, OUTBOX_METRIC, WebhookConfig,
};
