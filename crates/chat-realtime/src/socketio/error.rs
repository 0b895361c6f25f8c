//! Why a Socket.IO packet could not be decoded, in the protocol's words.

use super::packet::PacketType;

/// A packet that breaks the Socket.IO v5 encoding. The reference server closes the connection
/// on every one of these. Waiting for binary attachments is not an error: see
/// [`Decoded::Incomplete`](super::Decoded::Incomplete).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// An empty Engine.IO message, which holds no packet type.
    #[error("empty packet")]
    EmptyPacket,
    /// The first character is not a packet type (`0` to `6`).
    #[error("unknown packet type {0:?}")]
    UnknownPacketType(char),
    /// A BINARY_EVENT or BINARY_ACK without a valid `<count>-` attachment prefix.
    #[error("invalid attachment count")]
    InvalidAttachmentCount,
    /// More attachments announced than the decoder accepts.
    #[error("{count} attachments announced, at most {max} accepted")]
    TooManyAttachments {
        /// The announced count.
        count: usize,
        /// The decoder's limit.
        max: usize,
    },
    /// A namespace that is not a `/`-prefixed path (or that holds a character no client sends).
    #[error("invalid namespace {0:?}")]
    InvalidNamespace(String),
    /// An acknowledgement id too large for 64 bits.
    #[error("invalid acknowledgement id")]
    InvalidAckId,
    /// An acknowledgement id on a packet type that has none (CONNECT, DISCONNECT,
    /// CONNECT_ERROR).
    #[error("unexpected acknowledgement id on a {0} packet")]
    UnexpectedAckId(PacketType),
    /// An ACK or BINARY_ACK without the id of the event it answers.
    #[error("missing acknowledgement id on a {0} packet")]
    MissingAckId(PacketType),
    /// An EVENT, ACK or CONNECT_ERROR without its mandatory payload.
    #[error("missing payload on a {0} packet")]
    MissingPayload(PacketType),
    /// A DISCONNECT packet with a payload.
    #[error("unexpected payload on a {0} packet")]
    UnexpectedPayload(PacketType),
    /// The payload is not JSON (this also catches a non-numeric acknowledgement id, which the
    /// parser cannot tell from the payload that follows it).
    #[error("invalid JSON payload: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// A CONNECT payload that is not an object.
    #[error("CONNECT payload must be an object")]
    InvalidConnectPayload,
    /// A CONNECT_ERROR payload that is neither an object nor a string.
    #[error("CONNECT_ERROR payload must be an object or a string")]
    InvalidConnectErrorPayload,
    /// An EVENT payload that is not a non-empty array starting with the event name.
    #[error("EVENT payload must be a non-empty array whose first element is the event name")]
    InvalidEventPayload,
    /// An event name that Socket.IO reserves (`connect`, `disconnect`, ...).
    #[error("reserved event name {0:?}")]
    ReservedEventName(String),
    /// An ACK payload that is not an array.
    #[error("ACK payload must be an array")]
    InvalidAckPayload,
    /// A binary placeholder whose `num` does not name one of the announced attachments.
    #[error("invalid binary placeholder")]
    InvalidPlaceholder,
    /// A text packet arrived while the attachments of a binary packet were still awaited.
    #[error("text packet received while awaiting {missing} binary attachments")]
    UnexpectedTextPacket {
        /// Attachments still missing.
        missing: usize,
    },
    /// A binary frame arrived while no binary packet awaited attachments.
    #[error("binary attachment received without a binary packet")]
    UnexpectedAttachment,
}
