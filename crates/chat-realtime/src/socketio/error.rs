//! Why a Socket.IO packet could not be decoded, in the protocol's words.

use super::namespace::Namespace;
use super::packet::{AckId, PacketType};

/// An event that decodes but whose content the server cannot take (a string holding a lone
/// UTF-16 surrogate): the client is answered, by its ack id if it gave one, and keeps its
/// connection, because real clients send this and a retry would only lose it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedEvent {
    /// The namespace the event was sent to.
    pub namespace: Namespace,
    /// The event's name.
    pub name: String,
    /// The id to acknowledge, when the client asked for an answer.
    pub ack: Option<AckId>,
    /// What is wrong with the content, for the client's developer.
    pub reason: String,
}

/// A packet that breaks the Socket.IO v5 encoding. The reference server closes the connection
/// on every one of these; here, all but [`ParseError::InvalidContent`] do. Waiting for binary attachments is not an error: see
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
    /// The attachments of one packet add up to more bytes than the decoder accepts.
    #[error("binary attachments over {max} bytes in one packet")]
    AttachmentsTooLarge {
        /// The decoder's limit, in bytes.
        max: usize,
    },
    /// An event that is well-formed but whose content cannot be taken (see [`RefusedEvent`]);
    /// not fatal: the [`Decoder`](super::Decoder) turns it into
    /// [`Progress::Refused`](super::Progress::Refused) once its attachments have passed.
    #[error("event {:?} refused: {}", event.name, event.reason)]
    InvalidContent {
        /// The event and why it is refused.
        event: Box<RefusedEvent>,
        /// How many attachments it announced, which still follow it.
        attachments: usize,
    },
}

impl ParseError {
    /// Whether the packet broke the protocol, which ends the connection; a refused content
    /// does not.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, Self::InvalidContent { .. })
    }
}
