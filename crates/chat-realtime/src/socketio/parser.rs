//! The per-connection decoder: Engine.IO messages in, Socket.IO packets out, holding a binary
//! packet until its attachments have arrived.

use bytes::Bytes;

use super::{
    binary::PartialPacket,
    error::{ParseError, RefusedEvent},
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
    /// An event refused for its content, attachments included: answer it, keep the
    /// connection.
    Refused(Box<RefusedEvent>),
}

/// A binary packet whose attachments are still arriving.
#[derive(Debug, Clone)]
enum Pending {
    /// A packet to complete.
    Packet(PartialPacket),
    /// A refused event whose attachments are read and dropped.
    Refused {
        event: Box<RefusedEvent>,
        missing: usize,
    },
}

impl Pending {
    fn missing(&self) -> usize {
        match self {
            Self::Packet(partial) => partial.missing(),
            Self::Refused { missing, .. } => *missing,
        }
    }
}

/// Decodes the Socket.IO packets of one connection, message by message. Text messages hold
/// packets; binary messages are the attachments of the last binary packet, in order.
#[derive(Debug, Clone)]
pub struct Decoder {
    pending: Option<Pending>,
    /// Bytes of attachments received for the pending packet.
    pending_bytes: usize,
    /// How many binary packets have started waiting for attachments: names the pending one.
    serial: u64,
    max_attachments: usize,
    max_attachment_bytes: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ATTACHMENTS)
    }
}

impl Decoder {
    /// A decoder that refuses binary packets announcing more than `max_attachments`, with no
    /// limit on their bytes but the transport's.
    pub fn new(max_attachments: usize) -> Self {
        Self::with_limits(max_attachments, usize::MAX)
    }

    /// A decoder that refuses binary packets announcing more than `max_attachments`, or whose
    /// attachments add up to more than `max_attachment_bytes`.
    pub fn with_limits(max_attachments: usize, max_attachment_bytes: usize) -> Self {
        Self {
            pending: None,
            pending_bytes: 0,
            serial: 0,
            max_attachments,
            max_attachment_bytes,
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
        let pending = match Packet::decode(text) {
            Ok(Decoded::Complete(packet)) => return Ok(Progress::Packet(packet)),
            Ok(Decoded::Incomplete(partial)) => Pending::Packet(partial),
            Err(ParseError::InvalidContent {
                event,
                attachments: 0,
            }) => {
                return Ok(Progress::Refused(event));
            }
            Err(ParseError::InvalidContent { event, attachments }) => Pending::Refused {
                event,
                missing: attachments,
            },
            Err(error) => return Err(error),
        };
        if pending.missing() > self.max_attachments {
            return Err(ParseError::TooManyAttachments {
                count: pending.missing(),
                max: self.max_attachments,
            });
        }
        self.serial += 1;
        self.pending_bytes = 0;
        Ok(self.wait_for(pending))
    }

    /// Takes a binary Engine.IO message as the next attachment of the pending packet.
    pub fn decode_binary(&mut self, attachment: Bytes) -> Result<Progress, ParseError> {
        let pending = self
            .pending
            .take()
            .ok_or(ParseError::UnexpectedAttachment)?;
        self.pending_bytes = self.pending_bytes.saturating_add(attachment.len());
        if self.pending_bytes > self.max_attachment_bytes {
            return Err(ParseError::AttachmentsTooLarge {
                max: self.max_attachment_bytes,
            });
        }
        match pending {
            Pending::Packet(partial) => match partial.add_attachment(attachment) {
                Decoded::Complete(packet) => Ok(Progress::Packet(packet)),
                Decoded::Incomplete(partial) => Ok(self.wait_for(Pending::Packet(partial))),
            },
            Pending::Refused { event, missing } if missing <= 1 => Ok(Progress::Refused(event)),
            Pending::Refused { event, missing } => Ok(self.wait_for(Pending::Refused {
                event,
                missing: missing - 1,
            })),
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_awaiting_attachments(&self) -> bool {
        self.pending.is_some()
    }

    /// The serial number of the binary packet waiting for attachments, if one is: the same
    /// number as long as that packet waits, a new one for the next packet. A deadline on the
    /// attachments checks it to know whether the packet it was set for is still waiting.
    pub fn awaiting_serial(&self) -> Option<u64> {
        self.pending.as_ref().map(|_| self.serial)
    }

    fn wait_for(&mut self, pending: Pending) -> Progress {
        let missing = pending.missing();
        self.pending = Some(pending);
        Progress::AwaitingAttachments(missing)
    }
}
