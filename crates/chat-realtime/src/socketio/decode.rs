//! Decoding a packet's text form, left to right as the reference parser reads it: type,
//! attachment count, namespace, acknowledgement id, then the JSON payload, which is checked
//! against what the packet type allows.

use serde_json::Value;

use super::{
    binary::{PartialPacket, PendingData, check_placeholders},
    error::ParseError,
    namespace::Namespace,
    packet::{Ack, AckId, Decoded, Event, Packet, PacketData, PacketType},
};

/// Event names that Socket.IO gives a meaning of its own; a client may not send them.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

pub(super) fn decode(text: &str) -> Result<Decoded, ParseError> {
    let mut reader = Reader { text, pos: 0 };
    let kind = reader.packet_type()?;
    let count = if kind.is_binary() {
        reader.attachment_count()?
    } else {
        0
    };
    let namespace = reader.namespace()?;
    let ack = reader.ack_id()?;
    let payload = reader.payload()?;

    let data = match kind {
        PacketType::Connect => {
            refuse_ack(kind, ack)?;
            match payload {
                None => PacketData::Connect(None),
                Some(Value::Object(auth)) => PacketData::Connect(Some(auth)),
                Some(_) => return Err(ParseError::InvalidConnectPayload),
            }
        }
        PacketType::Disconnect => {
            refuse_ack(kind, ack)?;
            match payload {
                None => PacketData::Disconnect,
                Some(_) => return Err(ParseError::UnexpectedPayload(kind)),
            }
        }
        PacketType::ConnectError => {
            refuse_ack(kind, ack)?;
            match payload {
                Some(payload @ (Value::Object(_) | Value::String(_))) => {
                    PacketData::ConnectError(payload)
                }
                Some(_) => return Err(ParseError::InvalidConnectErrorPayload),
                None => return Err(ParseError::MissingPayload(kind)),
            }
        }
        PacketType::Event => PacketData::Event(event(kind, payload, ack)?),
        PacketType::Ack => PacketData::Ack(acknowledgement(kind, payload, ack)?),
        PacketType::BinaryEvent | PacketType::BinaryAck => {
            let pending = if kind == PacketType::BinaryEvent {
                PendingData::Event(event(kind, payload, ack)?)
            } else {
                PendingData::Ack(acknowledgement(kind, payload, ack)?)
            };
            check_placeholders(pending.args(), count)?;
            return Ok(PartialPacket::new(namespace, pending, count).into_decoded());
        }
    };
    Ok(Decoded::Complete(Packet::new(namespace, data)))
}

fn refuse_ack(kind: PacketType, ack: Option<AckId>) -> Result<(), ParseError> {
    match ack {
        Some(_) => Err(ParseError::UnexpectedAckId(kind)),
        None => Ok(()),
    }
}

fn event(
    kind: PacketType,
    payload: Option<Value>,
    ack: Option<AckId>,
) -> Result<Event, ParseError> {
    let Value::Array(mut args) = payload.ok_or(ParseError::MissingPayload(kind))? else {
        return Err(ParseError::InvalidEventPayload);
    };
    let name = match args.first_mut() {
        Some(Value::String(name)) => std::mem::take(name),
        _ => return Err(ParseError::InvalidEventPayload),
    };
    args.remove(0);
    if RESERVED_EVENTS.contains(&name.as_str()) {
        return Err(ParseError::ReservedEventName(name));
    }
    Ok(Event { name, args, ack })
}

fn acknowledgement(
    kind: PacketType,
    payload: Option<Value>,
    ack: Option<AckId>,
) -> Result<Ack, ParseError> {
    let id = ack.ok_or(ParseError::MissingAckId(kind))?;
    match payload.ok_or(ParseError::MissingPayload(kind))? {
        Value::Array(args) => Ok(Ack { id, args }),
        _ => Err(ParseError::InvalidAckPayload),
    }
}

/// A cursor over the packet text. Every delimiter is ASCII, so every position it stops at is
/// a character boundary.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// Length of the run of ASCII digits at the cursor.
    fn digits(&self) -> usize {
        self.rest().bytes().take_while(u8::is_ascii_digit).count()
    }

    fn packet_type(&mut self) -> Result<PacketType, ParseError> {
        let first = *self
            .text
            .as_bytes()
            .first()
            .ok_or(ParseError::EmptyPacket)?;
        let kind = PacketType::from_digit(first).ok_or_else(|| {
            ParseError::UnknownPacketType(self.text.chars().next().unwrap_or_default())
        })?;
        self.pos = 1;
        Ok(kind)
    }

    /// `<count>-` after a binary packet type.
    fn attachment_count(&mut self) -> Result<usize, ParseError> {
        let len = self.digits();
        let rest = self.rest();
        if len == 0 || rest.as_bytes().get(len) != Some(&b'-') {
            return Err(ParseError::InvalidAttachmentCount);
        }
        let count = rest[..len]
            .parse()
            .map_err(|_| ParseError::InvalidAttachmentCount)?;
        self.pos += len + 1;
        Ok(count)
    }

    /// `/name,` (the comma may be omitted at the end of the packet), else the main namespace.
    fn namespace(&mut self) -> Result<Namespace, ParseError> {
        let rest = self.rest();
        if !rest.starts_with('/') {
            return Ok(Namespace::MAIN);
        }
        let (name, consumed) = match rest.find(',') {
            Some(comma) => (&rest[..comma], comma + 1),
            None => (rest, rest.len()),
        };
        let namespace = Namespace::parse(name)?;
        self.pos += consumed;
        Ok(namespace)
    }

    /// The digits before the payload, if any.
    fn ack_id(&mut self) -> Result<Option<AckId>, ParseError> {
        let len = self.digits();
        if len == 0 {
            return Ok(None);
        }
        let id = self.rest()[..len]
            .parse()
            .map_err(|_| ParseError::InvalidAckId)?;
        self.pos += len;
        Ok(Some(id))
    }

    /// Whatever is left, as JSON; `None` when nothing is.
    fn payload(&mut self) -> Result<Option<Value>, ParseError> {
        let rest = self.rest();
        self.pos = self.text.len();
        if rest.is_empty() {
            return Ok(None);
        }
        serde_json::from_str(rest)
            .map(Some)
            .map_err(ParseError::InvalidJson)
    }
}
