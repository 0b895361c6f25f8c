//! Socket.IO v5, the layer the chat speaks: pure codecs for its packets (namespaces,
//! acknowledgements, binary attachments), the per-connection decoder, and the server that
//! runs namespaces over Engine.IO sessions. Each packet travels as the data of one
//! Engine.IO `message`.
//!
//! Specification: <https://github.com/socketio/socket.io-protocol> (v5).

mod binary;
mod decode;
mod error;
mod hold;
mod mailbox;
mod namespace;
mod packet;
mod parser;
mod server;
mod socket;
mod worker;

#[cfg(test)]
mod binary_tests;
#[cfg(test)]
mod content_tests;
#[cfg(test)]
mod malformed_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
mod spec_tests;

pub use binary::{Data, PartialPacket, deconstruct, placeholder, reconstruct};
pub use decode::RESERVED_EVENTS;
pub use error::{ParseError, RefusedEvent};
pub use hold::HeldFrame;
pub use namespace::Namespace;
pub use packet::{Ack, AckId, Decoded, Event, OutboundEvent, Packet, PacketData, PacketType};
pub use parser::{DEFAULT_MAX_ATTACHMENTS, Decoder, Progress};
pub use server::{ConnectRefusal, SocketIoConfig, SocketIoHandler, SocketIoServer};
pub use socket::{AckError, SioSocket};
