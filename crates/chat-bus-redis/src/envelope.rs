//! What travels on the channel: the id of the node that published it, a space, and the body as
//! JSON. The id comes first and plain so that a node skips its own messages (it delivered them
//! when it published them) without parsing them: every node receives everything it publishes.
//! The form is internal to one deployment's nodes, which run the same version during a rolling
//! restart or drop a body they cannot read (logged at debug: the hub reads it from the store).

use chat_domain::StreamEvent;
use chat_realtime::chat::Relay;
use serde::{Deserialize, Serialize};

/// An outgoing body, borrowing what it carries.
#[derive(Debug, Serialize)]
pub(crate) enum OutgoingBody<'a> {
    /// A committed event, at its place in the stream.
    Event(&'a StreamEvent),
    /// An ephemeral event for other nodes' sockets.
    Relay(&'a Relay),
}

/// An incoming body (an event is boxed: it is far larger than a relay).
#[derive(Debug, Deserialize)]
pub(crate) enum IncomingBody {
    Event(Box<StreamEvent>),
    Relay(Relay),
}

/// The bytes of one message (serializing these types cannot fail: no map has non-string keys).
pub(crate) fn encode(node: &str, body: OutgoingBody<'_>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(node.len() + 512);
    bytes.extend_from_slice(node.as_bytes());
    bytes.push(b' ');
    if serde_json::to_writer(&mut bytes, &body).is_err() {
        bytes.clear();
    }
    bytes
}

/// What a message says, unless `node` published it: `None` for one's own, else the body or
/// why it cannot be read.
pub(crate) fn decode(node: &str, bytes: &[u8]) -> Option<Result<IncomingBody, serde_json::Error>> {
    if bytes.len() > node.len() && bytes.starts_with(node.as_bytes()) && bytes[node.len()] == b' ' {
        return None;
    }
    let start = bytes.iter().position(|b| *b == b' ').map_or(0, |at| at + 1);
    Some(serde_json::from_slice(&bytes[start..]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chat_domain::UserId;
    use chat_realtime::chat::RelayTarget;

    use super::*;

    #[test]
    fn a_node_skips_its_own_messages_and_reads_the_others() {
        let relay = Relay {
            target: RelayTarget::Users(vec![UserId(3)]),
            packet: r#"2["user_online",{"userId":3}]"#.to_owned(),
        };
        let bytes = encode("a1", OutgoingBody::Relay(&relay));
        assert!(decode("a1", &bytes).is_none());
        match decode("a11", &bytes) {
            Some(Ok(IncomingBody::Relay(read))) => assert_eq!(read, relay),
            other => panic!("{other:?}"),
        }
        assert!(matches!(decode("b2", b"c3 {not json"), Some(Err(_))));
    }
}
