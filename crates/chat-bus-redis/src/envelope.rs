//! What travels on the channel: one JSON object per event, naming the node that published it
//! so that the node skips its own (it delivered them when it published them). The form is
//! internal to one deployment's nodes, which run the same version during a rolling restart
//! or tolerate an unknown body (dropped, logged at debug: the hub reads it from the store).

use chat_domain::StreamEvent;
use chat_realtime::chat::Relay;
use serde::{Deserialize, Serialize};

/// An outgoing message, borrowing what it carries.
#[derive(Debug, Serialize)]
pub(crate) struct Outgoing<'a> {
    pub(crate) node: &'a str,
    pub(crate) body: OutgoingBody<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) enum OutgoingBody<'a> {
    /// A committed event, at its place in the stream.
    Event(&'a StreamEvent),
    /// An ephemeral event for other nodes' sockets.
    Relay(&'a Relay),
}

/// An incoming message.
#[derive(Debug, Deserialize)]
pub(crate) struct Incoming {
    pub(crate) node: String,
    pub(crate) body: IncomingBody,
}

#[derive(Debug, Deserialize)]
pub(crate) enum IncomingBody {
    Event(StreamEvent),
    Relay(Relay),
}

/// The bytes of one message (serializing these types cannot fail: no map has non-string keys).
pub(crate) fn encode(node: &str, body: OutgoingBody<'_>) -> Vec<u8> {
    serde_json::to_vec(&Outgoing { node, body }).unwrap_or_default()
}

/// One message read back, or why not.
pub(crate) fn decode(bytes: &[u8]) -> Result<Incoming, serde_json::Error> {
    serde_json::from_slice(bytes)
}
