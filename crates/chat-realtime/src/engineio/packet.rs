//! One Engine.IO packet: its type, its data, and the text form it takes in a WebSocket text
//! frame or in one record of an HTTP long-polling payload.

use std::fmt::{self, Write as _};

use bytes::Bytes;
use bytestring::ByteString;

use super::{base64, error::ParseError, frame::Frame, open::OpenPacket};

/// The data of a `ping` / `pong` packet during the transport upgrade.
const PROBE: &str = "probe";

/// The packet types of Engine.IO v4, with their wire digit as discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: the server's handshake, carrying [`OpenPacket`].
    Open = 0,
    /// `1`: the transport may be closed.
    Close = 1,
    /// `2`: heartbeat request (sent by the server in v4), or upgrade probe.
    Ping = 2,
    /// `3`: heartbeat answer, or upgrade probe answer.
    Pong = 3,
    /// `4`: application data (here, one Socket.IO packet).
    Message = 4,
    /// `5`: the client completes the upgrade to WebSocket.
    Upgrade = 5,
    /// `6`: no-op, flushes a pending poll during an upgrade.
    Noop = 6,
}

impl PacketType {
    /// Reads a type from its wire digit; `None` for anything else.
    pub fn from_digit(byte: u8) -> Option<Self> {
        Some(match byte {
            b'0' => Self::Open,
            b'1' => Self::Close,
            b'2' => Self::Ping,
            b'3' => Self::Pong,
            b'4' => Self::Message,
            b'5' => Self::Upgrade,
            b'6' => Self::Noop,
            _ => return None,
        })
    }

    /// The wire digit that starts a packet of this type.
    pub fn as_char(self) -> char {
        char::from(b'0' + self as u8)
    }

    /// The type's name in the specification (`open`, `close`, ...), for logs and errors.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Close => "close",
            Self::Ping => "ping",
            Self::Pong => "pong",
            Self::Message => "message",
            Self::Upgrade => "upgrade",
            Self::Noop => "noop",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded Engine.IO packet. Text messages share the frame's buffer (no copy); binary
/// messages own their bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0{...}`: the handshake the server sends first.
    Open(OpenPacket),
    /// `1`: close the session.
    Close,
    /// `2`: heartbeat ping.
    Ping,
    /// `3`: heartbeat pong.
    Pong,
    /// `2probe`: the client checks a new WebSocket before upgrading to it.
    PingProbe,
    /// `3probe`: the server's answer to [`Packet::PingProbe`].
    PongProbe,
    /// `4<text>`: a text message (one Socket.IO packet).
    Message(ByteString),
    /// A binary message: a binary WebSocket frame, or `b<base64>` in text form.
    Binary(Bytes),
    /// `5`: the client switches to the probed WebSocket.
    Upgrade,
    /// `6`: nothing; ends a pending long-poll during an upgrade.
    Noop,
}

impl Packet {
    /// Decodes one packet in text form: a WebSocket text frame, or one record of a polling
    /// payload. A text message is a slice of `frame`, so it shares its buffer.
    ///
    /// A binary WebSocket frame needs no decoding: it is [`Packet::Binary`] as it is.
    pub fn decode(frame: &ByteString) -> Result<Self, ParseError> {
        let text: &str = frame;
        let Some(&first) = text.as_bytes().first() else {
            return Err(ParseError::EmptyPacket);
        };
        if first == b'b' {
            let bytes = base64::decode(&text[1..]).ok_or(ParseError::InvalidBase64)?;
            return Ok(Self::Binary(Bytes::from(bytes)));
        }
        let Some(kind) = PacketType::from_digit(first) else {
            let found = text.chars().next().unwrap_or_default();
            return Err(ParseError::UnknownPacketType(found));
        };
        // `first` is ASCII, so index 1 is a character boundary.
        let data = &text[1..];
        let no_data = |packet: Self| {
            if data.is_empty() {
                Ok(packet)
            } else {
                Err(ParseError::UnexpectedData(kind))
            }
        };
        match kind {
            PacketType::Open => OpenPacket::decode(data).map(Self::Open),
            PacketType::Close => no_data(Self::Close),
            PacketType::Ping if data == PROBE => Ok(Self::PingProbe),
            PacketType::Ping => no_data(Self::Ping),
            PacketType::Pong if data == PROBE => Ok(Self::PongProbe),
            PacketType::Pong => no_data(Self::Pong),
            PacketType::Message => Ok(Self::Message(frame.slice_ref(data))),
            PacketType::Upgrade => no_data(Self::Upgrade),
            PacketType::Noop => no_data(Self::Noop),
        }
    }

    /// The packet's type; a binary message is a [`PacketType::Message`].
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Open(_) => PacketType::Open,
            Self::Close => PacketType::Close,
            Self::Ping | Self::PingProbe => PacketType::Ping,
            Self::Pong | Self::PongProbe => PacketType::Pong,
            Self::Message(_) | Self::Binary(_) => PacketType::Message,
            Self::Upgrade => PacketType::Upgrade,
            Self::Noop => PacketType::Noop,
        }
    }

    /// Encodes the packet for a WebSocket: a text frame, or a binary frame sent as is.
    pub fn encode(&self) -> Frame {
        match self {
            Self::Binary(bytes) => Frame::Binary(bytes.clone()),
            _ => {
                let mut text = String::new();
                self.encode_text_into(&mut text);
                Frame::Text(ByteString::from(text))
            }
        }
    }

    /// Appends the packet's text form to `out`, as HTTP long-polling carries it: a binary
    /// message becomes `b` followed by its base64.
    pub fn encode_text_into(&self, out: &mut String) {
        if let Self::Binary(bytes) = self {
            out.push('b');
            base64::encode_into(bytes, out);
            return;
        }
        out.push(self.packet_type().as_char());
        match self {
            Self::Open(open) => {
                // Writing into a String cannot fail.
                let _ = write!(out, "{open}");
            }
            Self::PingProbe | Self::PongProbe => out.push_str(PROBE),
            Self::Message(text) => out.push_str(text),
            _ => {}
        }
    }
}
