//! HTTP long-polling payloads: several packets in one request or response body, in text form,
//! separated by the record separator `\x1e` (binary packets as `b` + base64).

use bytes::Bytes;
use bytestring::ByteString;

use super::{base64, error::ParseError, frame::Frame, packet::Packet};

/// The record separator between the packets of a payload.
pub const SEPARATOR: char = '\x1e';

/// Validates a polling request body as UTF-8 and returns its packets, in order.
pub fn decode_payload(body: Bytes) -> Result<PayloadPackets, ParseError> {
    ByteString::try_from(body)
        .map(PayloadPackets::new)
        .map_err(|_| ParseError::InvalidUtf8)
}

/// The packets of one payload, decoded lazily. Each text message shares the body's buffer.
/// After the first malformed packet the iteration ends: the session is to be closed, and what
/// follows a malformed record cannot be trusted.
#[derive(Debug, Clone)]
pub struct PayloadPackets {
    body: ByteString,
    /// Byte offset of the next record, or `None` once done.
    next: Option<usize>,
}

impl PayloadPackets {
    /// Iterates the packets of a body already known to be text. An empty body holds one empty
    /// (and so malformed) record, as in the reference parser.
    pub fn new(body: ByteString) -> Self {
        Self {
            body,
            next: Some(0),
        }
    }
}

impl Iterator for PayloadPackets {
    type Item = Result<Packet, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next?;
        let rest = self.body.get(start..)?;
        let (record, next) = match rest.find(SEPARATOR) {
            Some(at) => (&rest[..at], Some(start + at + SEPARATOR.len_utf8())),
            None => (rest, None),
        };
        let decoded = Packet::decode(&self.body.slice_ref(record));
        self.next = if decoded.is_ok() { next } else { None };
        Some(decoded)
    }
}

impl std::iter::FusedIterator for PayloadPackets {}

/// Builds a polling response body from frames, each already encoded once for all receivers.
#[derive(Debug, Clone, Default)]
pub struct PayloadWriter {
    body: String,
    packets: usize,
}

impl PayloadWriter {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }

    /// The body length if `frame` were added now, so that a caller can stop below a size limit.
    pub fn len_with(&self, frame: &Frame) -> usize {
        let separator = if self.packets == 0 { 0 } else { 1 };
        let encoded = match frame {
            Frame::Text(text) => text.len(),
            Frame::Binary(bytes) => 1 + bytes.len().div_ceil(3) * 4,
        };
        self.body.len() + separator + encoded
    }

    /// Appends one frame, preceded by the separator unless it is the first. A text frame must
    /// not contain the separator itself (the specification assumes so); Socket.IO packets never
    /// do, since JSON escapes control characters and namespaces refuse them.
    pub fn push(&mut self, frame: &Frame) {
        if self.packets > 0 {
            self.body.push(SEPARATOR);
        }
        match frame {
            Frame::Text(text) => self.body.push_str(text),
            Frame::Binary(bytes) => {
                self.body.push('b');
                base64::encode_into(bytes, &mut self.body);
            }
        }
        self.packets += 1;
    }

    /// Appends a packet not yet encoded (for packets of one session, like `noop` or `pong`).
    pub fn push_packet(&mut self, packet: &Packet) {
        if self.packets > 0 {
            self.body.push(SEPARATOR);
        }
        packet.encode_text_into(&mut self.body);
        self.packets += 1;
    }

    /// How many packets the payload holds.
    pub fn packets(&self) -> usize {
        self.packets
    }

    /// The body length so far, in bytes.
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether no packet was added yet.
    pub fn is_empty(&self) -> bool {
        self.packets == 0
    }

    /// The finished body, as a cheaply cloned string.
    pub fn finish(self) -> ByteString {
        ByteString::from(self.body)
    }
}

/// Joins frames into one polling payload.
pub fn encode_payload<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> ByteString {
    let mut writer = PayloadWriter::new();
    for frame in frames {
        writer.push(frame);
    }
    writer.finish()
}
