//! Engine.IO v4, the transport layer under Socket.IO: pure codecs for its packets, the
//! handshake and HTTP long-polling payloads, and the server over actix-web ([`Engine`]) with
//! its two transports, HTTP long-polling and WebSocket (actix-ws), which hands each session to
//! an [`EngineHandler`].
//!
//! Specification: <https://github.com/socketio/engine.io-protocol> (v4).

mod base64;
mod config;
mod engine;
mod error;
mod frame;
mod frame_guard;
mod handler;
mod heartbeat;
mod open;
mod packet;
mod payload;
mod polling;
mod request;
mod socket;
mod websocket;

#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod spec_tests;

pub use config::EngineConfig;
pub use engine::Engine;
pub use error::ParseError;
pub use frame::Frame;
pub use handler::{
    DisconnectReason, EngineHandler, EngineMessage, HandshakeHeaders, HandshakeRequest,
};
pub use open::{OpenPacket, TransportKind};
pub use packet::{Packet, PacketType};
pub use payload::{PayloadPackets, PayloadWriter, SEPARATOR, decode_payload, encode_payload};
pub use socket::{EngineSocket, SendError};
