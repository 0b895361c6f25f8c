//! What the realtime layer counts, through the `metrics` facade: the server installs a
//! Prometheus recorder and serves the values at `/metrics` (docs/operations.md lists them);
//! without a recorder every call here is a no-op.
//!
//! Every label comes from a fixed set (a transport, a disconnect reason, an event name the
//! server knows), never from what a client chose, so that the series stay bounded.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::engineio::{DisconnectReason, TransportKind};

/// Gauge: open Engine.IO sessions, labelled `transport` (`polling`, `websocket`); an upgraded
/// session moves from the first to the second.
pub const SESSIONS: &str = "chat_engineio_sessions";
/// Counter: sessions ended, labelled `reason` (`slow_client` is the slow-consumer cut-off).
pub const DISCONNECTS: &str = "chat_engineio_disconnects_total";
/// Gauge: the deepest any session's outbound queue has been since start-up, in frames.
pub const OUTBOUND_QUEUE_HIGH_WATER: &str = "chat_engineio_outbound_queue_high_water";
/// Counter: client events received, labelled `event` (`unknown` for names the server does
/// not handle).
pub const EVENTS_RECEIVED: &str = "chat_socketio_events_received_total";
/// Counter: server events encoded for this node's sockets, labelled `event` (one per event,
/// however many sockets it goes to).
pub const EVENTS_SENT: &str = "chat_socketio_events_sent_total";
/// Counter: event frames queued on sockets (an event to three sockets counts three).
pub const FRAMES_QUEUED: &str = "chat_socketio_frames_queued_total";
/// Counter: connection state recoveries asked for, labelled `outcome` (`recovered`,
/// `no_session`, `offset_ahead`, `too_far_behind`, `store_error`).
pub const RECOVERIES: &str = "chat_socketio_recoveries_total";

/// The client events the server handles; anything else is counted as `unknown`.
const KNOWN_EVENTS: [&str; 7] = [
    "join_conversation",
    "join_personal_room",
    "send_message",
    "edit_message",
    "typing",
    "stop_typing",
    "mark_as_read",
];

/// A session opened on `transport`.
pub(crate) fn session_opened(transport: TransportKind) {
    metrics::gauge!(SESSIONS, "transport" => transport.as_str()).increment(1.0);
}

/// A session moved from polling to WebSocket.
pub(crate) fn session_upgraded() {
    session_left(TransportKind::Polling);
    session_opened(TransportKind::Websocket);
}

/// A session on `transport` ended for `reason`.
pub(crate) fn session_closed(transport: TransportKind, reason: DisconnectReason) {
    session_left(transport);
    metrics::counter!(DISCONNECTS, "reason" => reason.as_str()).increment(1);
}

fn session_left(transport: TransportKind) {
    metrics::gauge!(SESSIONS, "transport" => transport.as_str()).decrement(1.0);
}

/// The deepest outbound queue seen so far, process-wide.
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

/// A session's outbound queue holds `depth` frames now.
pub(crate) fn outbound_queued(depth: usize) {
    // A plain read first: the shared line is written only when the mark rises.
    if depth > HIGH_WATER.load(Ordering::Relaxed)
        && HIGH_WATER.fetch_max(depth, Ordering::Relaxed) < depth
    {
        // The mark as it is now, so that a slower writer of a lower depth never sets it back.
        metrics::gauge!(OUTBOUND_QUEUE_HIGH_WATER).set(HIGH_WATER.load(Ordering::Relaxed) as f64);
    }
}

/// A client event named `name` arrived.
pub(crate) fn event_received(name: &str) {
    let known = KNOWN_EVENTS.iter().find(|known| **known == name);
    let label = known.copied().unwrap_or("unknown");
    metrics::counter!(EVENTS_RECEIVED, "event" => label).increment(1);
}

/// A server event named `name` was encoded for this node's sockets.
pub(crate) fn event_sent(name: &'static str) {
    metrics::counter!(EVENTS_SENT, "event" => name).increment(1);
}

/// An event frame was queued on `sockets` sockets.
pub(crate) fn frames_queued(sockets: usize) {
    metrics::counter!(FRAMES_QUEUED).increment(sockets as u64);
}

/// A recovery asked for ended with `outcome`.
pub(crate) fn recovery(outcome: &'static str) {
    metrics::counter!(RECOVERIES, "outcome" => outcome).increment(1);
}
