//! Engine.IO v4, the transport layer under Socket.IO: pure codecs for its packets, the
//! handshake and HTTP long-polling payloads. No I/O here; the transports use these.
//!
//! Specification: <https://github.com/socketio/engine.io-protocol> (v4).

mod base64;
mod error;
mod frame;
mod open;
mod packet;
mod payload;

#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod spec_tests;

pub use error::ParseError;
pub use frame::Frame;
pub use open::{OpenPacket, TransportKind};
pub use packet::{Packet, PacketType};
pub use payload::{PayloadPackets, PayloadWriter, SEPARATOR, decode_payload, encode_payload};
