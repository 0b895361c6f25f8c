//! The per-connection decoder: Engine.IO messages in, Socket.IO packets out, holding a binary
//! packet until its attachments have arrived.

use bytes::Bytes;

use super::{
    binary::PartialPacket,
    error::ParseError,
    packet::{Decoded, Packet},
};

/// The attachment limit of [`Decoder::default`]: generous for clients that send binary, small
/// enough that a peer cannot keep a connection waiting on a huge announced count.
pub const DEFAULT_MAX_ATTACHMENTS: usize = 10;

/// What one Engine.IO message made of the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A complete packet.
    Packet(Packet),
    /// A binary packet is still waiting for this many attachments.
    AwaitingAttachments(usize),
}

/// Decodes the Socket.IO packets of one connection, message by message. Text messages hold
/// packets; binary messages are the attachments of the last binary packet, in order.
#[derive(Debug, Clone)]
pub struct Decoder {
    pending: Option<PartialPacket>,
    max_attachments: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ATTACHMENTS)
    }
}

impl Decoder {
    /// A decoder that refuses binary packets announcing more than `max_attachments`.
    pub fn new(max_attachments: usize) -> Self {
        Self {
            pending: None,
            max_attachments,
        }
    }

    /// Decodes the text of an Engine.IO message. Text while attachments are awaited is a
    /// protocol error; the half-received packet is dropped with it.
    pub fn decode_text(&mut self, text: &str) -> Result<Progress, ParseError> {
        if let Some(pending) = self.pending.take() {
            return Err(ParseError::UnexpectedTextPacket {
                missing: pending.missing(),
            });
        }
        match Packet::decode(text)? {
            Decoded::Complete(packet) => Ok(Progress::Packet(packet)),
            Decoded::Incomplete(partial) if partial.missing() > self.max_attachments => {
                Err(ParseError::TooManyAttachments {
                    count: partial.missing(),
                    max: self.max_attachments,
                })
            }
            Decoded::Incomplete(partial) => Ok(self.wait_for(partial)),
        }
    }

    /// Takes a binary Engine.IO message as the next attachment of the pending packet.
    pub fn decode_binary(&mut self, attachment: Bytes) -> Result<Progress, ParseError> {
        let pending = self
            .pending
            .take()
            .ok_or(ParseError::UnexpectedAttachment)?;
        match pending.add_attachment(attachment) {
            Decoded::Complete(packet) => Ok(Progress::Packet(packet)),
            Decoded::Incomplete(partial) => Ok(self.wait_for(partial)),
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_awaiting_attachments(&self) -> bool {
        self.pending.is_some()
    }

    fn wait_for(&mut self, partial: PartialPacket) -> Progress {
        let missing = partial.missing();
        self.pending = Some(partial);
        Progress::AwaitingAttachments(missing)
    }
}
