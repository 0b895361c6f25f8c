//! Why an Engine.IO packet or payload could not be decoded, in the protocol's words.

use super::packet::PacketType;

/// A frame or payload that breaks the Engine.IO v4 encoding. Every variant is fatal for the
/// session: the reference server closes the transport on a parse error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A packet with no type character (an empty frame, or an empty record in a payload).
    #[error("empty packet")]
    EmptyPacket,
    /// The first character is neither a packet type (`0` to `6`) nor the binary prefix `b`.
    #[error("unknown packet type {0:?}")]
    UnknownPacketType(char),
    /// A packet type that carries no data was followed by some (only `ping` and `pong` may
    /// carry the string `probe`).
    #[error("unexpected data after a {0} packet")]
    UnexpectedData(PacketType),
    /// A `b`-prefixed packet whose body is not standard base64.
    #[error("invalid base64 in a binary packet")]
    InvalidBase64,
    /// An HTTP long-polling body that is not UTF-8 text.
    #[error("payload is not valid UTF-8")]
    InvalidUtf8,
    /// An `open` packet whose JSON is not the handshake object.
    #[error("invalid open packet: {0}")]
    InvalidOpenPacket(#[source] serde_json::Error),
    /// A transport name other than `polling` or `websocket`.
    #[error("unknown transport {0:?}")]
    UnknownTransport(String),
}
