//! One Socket.IO packet: its type, namespace, acknowledgement id and JSON payload, and its
//! text form (`<type>[<count>-][<namespace>,][<ack id>][<JSON>]`), which travels as the data
//! of one Engine.IO `message`.

use std::{
    fmt::{self, Write as _},
    io,
};

use bytes::Bytes;
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use super::{binary::PartialPacket, namespace::Namespace};

/// The id that pairs an EVENT with the ACK answering it.
pub type AckId = u64;

/// The packet types of Socket.IO v5, with their wire digit as discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: join a namespace (client), or accept the join with the socket id (server).
    Connect = 0,
    /// `1`: leave a namespace.
    Disconnect = 1,
    /// `2`: an event with its arguments.
    Event = 2,
    /// `3`: the answer to an event that asked for one.
    Ack = 3,
    /// `4`: the server refuses the join.
    ConnectError = 4,
    /// `5`: an event whose arguments hold binary attachments.
    BinaryEvent = 5,
    /// `6`: an acknowledgement whose arguments hold binary attachments.
    BinaryAck = 6,
}

impl PacketType {
    /// Reads a type from its wire digit; `None` for anything else.
    pub fn from_digit(byte: u8) -> Option<Self> {
        Some(match byte {
            b'0' => Self::Connect,
            b'1' => Self::Disconnect,
            b'2' => Self::Event,
            b'3' => Self::Ack,
            b'4' => Self::ConnectError,
            b'5' => Self::BinaryEvent,
            b'6' => Self::BinaryAck,
            _ => return None,
        })
    }

    /// The wire digit that starts a packet of this type.
    pub fn as_char(self) -> char {
        char::from(b'0' + self as u8)
    }

    /// Whether packets of this type announce binary attachments (`<count>-`).
    pub fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }

    /// The type's name in the specification (`CONNECT`, `BINARY_EVENT`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Disconnect => "DISCONNECT",
            Self::Event => "EVENT",
            Self::Ack => "ACK",
            Self::ConnectError => "CONNECT_ERROR",
            Self::BinaryEvent => "BINARY_EVENT",
            Self::BinaryAck => "BINARY_ACK",
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An event: its name, its arguments, and the id under which the sender awaits an ACK.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event name, the first element of the payload array.
    pub name: String,
    /// The arguments after the name (with binary placeholders in a BINARY_EVENT).
    pub args: Vec<Value>,
    /// Present when the sender passed an acknowledgement callback.
    pub ack: Option<AckId>,
}

/// An acknowledgement: the answer to the event sent with `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// The id of the event being answered.
    pub id: AckId,
    /// The callback's arguments (with binary placeholders in a BINARY_ACK).
    pub args: Vec<Value>,
}

/// What a packet says, one variant per packet type.
#[derive(Debug, Clone, PartialEq)]
pub enum PacketData {
    /// CONNECT, with the client's `auth` object or the server's `{"sid": ...}`.
    Connect(Option<Map<String, Value>>),
    /// DISCONNECT from the namespace.
    Disconnect,
    /// EVENT.
    Event(Event),
    /// ACK.
    Ack(Ack),
    /// CONNECT_ERROR, usually `{"message": ...}`; must be an object or a string.
    ConnectError(Value),
    /// BINARY_EVENT: arguments with placeholders, and the attachments they point to.
    BinaryEvent(Event, Vec<Bytes>),
    /// BINARY_ACK: arguments with placeholders, and the attachments they point to.
    BinaryAck(Ack, Vec<Bytes>),
}

impl PacketData {
    /// The packet type that carries this data.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::Disconnect => PacketType::Disconnect,
            Self::Event(_) => PacketType::Event,
            Self::Ack(_) => PacketType::Ack,
            Self::ConnectError(_) => PacketType::ConnectError,
            Self::BinaryEvent(..) => PacketType::BinaryEvent,
            Self::BinaryAck(..) => PacketType::BinaryAck,
        }
    }
}

/// A Socket.IO packet addressed to one namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The namespace the packet belongs to.
    pub namespace: Namespace,
    /// The packet's type and contents.
    pub data: PacketData,
}

/// The outcome of decoding a packet's text: complete, or a binary packet still waiting for
/// its attachments (which is not an error).
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// The packet, with all its attachments.
    Complete(Packet),
    /// A BINARY_EVENT or BINARY_ACK whose attachments follow in binary frames.
    Incomplete(PartialPacket),
}

impl Packet {
    /// A packet in `namespace`.
    pub fn new(namespace: Namespace, data: PacketData) -> Self {
        Self { namespace, data }
    }

    /// The server's acceptance of a CONNECT: `{"sid": <socket id>}`.
    pub fn connect(namespace: Namespace, sid: &str) -> Self {
        Self::connect_with_pid(namespace, sid, None)
    }

    /// The server's answer to a CONNECT with the private session id of connection state
    /// recovery, when there is one: `{"sid": <sid>, "pid": <pid>}`.
    pub fn connect_with_pid(namespace: Namespace, sid: &str, pid: Option<&str>) -> Self {
        let mut payload = Map::new();
        payload.insert("sid".to_owned(), Value::from(sid));
        if let Some(pid) = pid {
            payload.insert("pid".to_owned(), Value::from(pid));
        }
        Self::new(namespace, PacketData::Connect(Some(payload)))
    }

    /// The server's refusal of a CONNECT: `{"message": <message>}`.
    pub fn connect_error(namespace: Namespace, message: &str) -> Self {
        let payload = serde_json::json!({ "message": message });
        Self::new(namespace, PacketData::ConnectError(payload))
    }

    /// DISCONNECT from `namespace`.
    pub fn disconnect(namespace: Namespace) -> Self {
        Self::new(namespace, PacketData::Disconnect)
    }

    /// An EVENT without acknowledgement, the common outbound packet.
    pub fn event(namespace: Namespace, name: impl Into<String>, args: Vec<Value>) -> Self {
        let event = Event {
            name: name.into(),
            args,
            ack: None,
        };
        Self::new(namespace, PacketData::Event(event))
    }

    /// An ACK answering the event sent with `id`.
    pub fn ack(namespace: Namespace, id: AckId, args: Vec<Value>) -> Self {
        Self::new(namespace, PacketData::Ack(Ack { id, args }))
    }

    /// Decodes a packet's text (the data of an Engine.IO text message).
    pub fn decode(text: &str) -> Result<Decoded, super::ParseError> {
        super::decode::decode(text)
    }

    /// The binary attachments, each to be sent as its own binary message after the text.
    pub fn attachments(&self) -> &[Bytes] {
        match &self.data {
            PacketData::BinaryEvent(_, attachments) | PacketData::BinaryAck(_, attachments) => {
                attachments
            }
            _ => &[],
        }
    }

    /// Appends the packet's text form to `out`; the attachments are not part of it.
    pub fn encode_into(&self, out: &mut String) {
        // Writing into a String cannot fail.
        let _ = write!(out, "{self}");
    }
}

/// Writes the packet's text form, so that it can be written straight into an Engine.IO frame
/// (see `engineio::Frame::message`) without an intermediate string.
impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char(self.data.packet_type().as_char())?;
        let (ack, count) = match &self.data {
            PacketData::Event(event) => (event.ack, None),
            PacketData::Ack(ack) => (Some(ack.id), None),
            PacketData::BinaryEvent(event, attachments) => (event.ack, Some(attachments.len())),
            PacketData::BinaryAck(ack, attachments) => (Some(ack.id), Some(attachments.len())),
            _ => (None, None),
        };
        if let Some(count) = count {
            write!(f, "{count}-")?;
        }
        if !self.namespace.is_main() {
            write!(f, "{},", self.namespace)?;
        }
        if let Some(ack) = ack {
            write!(f, "{ack}")?;
        }
        let mut json = JsonWriter(f);
        let written = match &self.data {
            PacketData::Connect(None) | PacketData::Disconnect => Ok(()),
            PacketData::Connect(Some(payload)) => serde_json::to_writer(&mut json, payload),
            PacketData::ConnectError(payload) => serde_json::to_writer(&mut json, payload),
            PacketData::Event(event) | PacketData::BinaryEvent(event, _) => {
                serde_json::to_writer(&mut json, &EventArray(event))
            }
            PacketData::Ack(ack) | PacketData::BinaryAck(ack, _) => {
                serde_json::to_writer(&mut json, &ack.args)
            }
        };
        written.map_err(|_| fmt::Error)
    }
}

/// An EVENT without acknowledgement whose one argument is serialized straight from `payload`:
/// for the server's outbound events, which need no JSON tree. Writes the same text as
/// [`Packet::event`] with that argument.
pub struct OutboundEvent<'a, T> {
    namespace: &'a Namespace,
    name: &'a str,
    payload: &'a T,
    offset: Option<&'a str>,
}

impl<'a, T: Serialize> OutboundEvent<'a, T> {
    /// The event `name` with `payload` as its argument, in `namespace`.
    pub fn new(namespace: &'a Namespace, name: &'a str, payload: &'a T) -> Self {
        OutboundEvent {
            namespace,
            name,
            payload,
            offset: None,
        }
    }

    /// The same event with a connection state recovery offset as its last argument, as the
    /// reference server appends it: the client keeps the last one it received and sends it
    /// back when it reconnects.
    pub fn with_offset(mut self, offset: &'a str) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl<T: Serialize> fmt::Display for OutboundEvent<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char(PacketType::Event.as_char())?;
        if !self.namespace.is_main() {
            write!(f, "{},", self.namespace)?;
        }
        let written = match self.offset {
            None => serde_json::to_writer(&mut JsonWriter(f), &(self.name, self.payload)),
            Some(offset) => {
                serde_json::to_writer(&mut JsonWriter(f), &(self.name, self.payload, offset))
            }
        };
        written.map_err(|_| fmt::Error)
    }
}

/// Serializes an event as the payload array `[name, ...args]` without building that array.
struct EventArray<'a>(&'a Event);

impl Serialize for EventArray<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(1 + self.0.args.len()))?;
        seq.serialize_element(&self.0.name)?;
        for arg in &self.0.args {
            seq.serialize_element(arg)?;
        }
        seq.end()
    }
}

/// Lets serde_json, which writes to `io::Write`, write into a formatter. serde_json only ever
/// writes whole UTF-8 sequences, so each chunk is checked and passed on as it is.
struct JsonWriter<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl io::Write for JsonWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = std::str::from_utf8(buf).map_err(io::Error::other)?;
        self.0.write_str(text).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
