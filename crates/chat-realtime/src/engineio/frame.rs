//! An encoded Engine.IO packet, ready to send: encoded once, then cloned (by reference count)
//! into the outbound queue of every socket that receives it.

use std::fmt::{self, Write as _};

use bytes::Bytes;
use bytestring::ByteString;

use super::packet::PacketType;

/// One outbound packet in its final form. A WebSocket sends it as one frame of the same kind;
/// HTTP long-polling joins frames into a payload (see
/// [`PayloadWriter`](super::payload::PayloadWriter)). Cloning never copies the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A packet in text form, type digit included (`4...`, `2`, `3probe`, ...).
    Text(ByteString),
    /// A binary message, sent as a binary WebSocket frame (or `b<base64>` when polling).
    Binary(Bytes),
}

impl Frame {
    /// A `message` packet whose text is `content` (typically a Socket.IO packet), written
    /// straight after the `4` so that the content is encoded exactly once.
    pub fn message(content: impl fmt::Display) -> Self {
        let mut text = String::new();
        text.push(PacketType::Message.as_char());
        // Writing into a String cannot fail.
        let _ = write!(text, "{content}");
        Self::Text(ByteString::from(text))
    }

    /// A binary message frame, such as a Socket.IO attachment.
    pub fn binary(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }

    /// The frame's size in bytes as a WebSocket sends it, for payload and queue limits.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the frame carries no bytes (only an empty binary message does).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
