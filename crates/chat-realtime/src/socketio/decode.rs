//! Decoding a packet's text form, left to right as the reference parser reads it: type,
//! attachment count, namespace, acknowledgement id, then the JSON payload, which is checked
//! against what the packet type allows.

use serde_json::Value;

use super::{
    binary::{PartialPacket, PendingData, check_placeholders},
    error::{ParseError, RefusedEvent},
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
    let mut reader = Reader {
        text,
        pos: 0,
        bad_content: None,
    };
    let kind = reader.packet_type()?;
    let count = if kind.is_binary() {
        reader.attachment_count()?
    } else {
        0
    };
    let namespace = reader.namespace()?;
    let ack = reader.ack_id()?;
    let payload = reader.payload()?;
    if let Some(error) = reader.bad_content.take() {
        return Err(refuse_content(kind, count, namespace, payload, ack, error));
    }

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

/// A packet whose JSON is well-formed but for strings that hold a lone UTF-16 surrogate
/// (`\ud83d`, which a JavaScript client sends when it cuts a string inside an emoji, and
/// which has no place in a Rust string). An event is refused for its content, answerable by
/// its ack id, with the connection kept; any other packet breaks the protocol as before.
fn refuse_content(
    kind: PacketType,
    count: usize,
    namespace: Namespace,
    payload: Option<Value>,
    ack: Option<AckId>,
    error: serde_json::Error,
) -> ParseError {
    if !matches!(kind, PacketType::Event | PacketType::BinaryEvent) {
        return ParseError::InvalidJson(error);
    }
    let name = match event(kind, payload, ack) {
        Ok(event) => event.name,
        Err(error) => return error,
    };
    ParseError::InvalidContent {
        event: Box::new(RefusedEvent {
            namespace,
            name,
            ack,
            reason: LONE_SURROGATE.to_owned(),
        }),
        attachments: count,
    }
}

/// Why an event holding a lone surrogate is refused, in words for the client's developer.
const LONE_SURROGATE: &str =
    "holds a lone UTF-16 surrogate (text cut inside a character); send whole characters";

/// The JSON with each lone surrogate escape (`\uD800`-`\uDFFF` not in a high-low pair)
/// replaced by `\ufffd`; `None` when it holds none. Every backslash of valid JSON is inside a
/// string, so escapes are found without tracking strings.
fn without_lone_surrogates(json: &str) -> Option<String> {
    fn unit(bytes: &[u8], at: usize) -> Option<u32> {
        let digits = bytes.get(at..at + 4)?;
        let digits = std::str::from_utf8(digits).ok()?;
        u32::from_str_radix(digits, 16).ok()
    }
    let escape = |bytes: &[u8], at: usize| {
        (bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u'))
            .then(|| unit(bytes, at + 2))
            .flatten()
    };
    let bytes = json.as_bytes();
    let (mut out, mut copied, mut at) = (String::new(), 0, 0);
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        let Some(first) = escape(bytes, at) else {
            at += 2; // `\"`, `\\`, `\n`, ...: the escaped character is never a backslash
            continue;
        };
        let paired = (0xD800..0xDC00).contains(&first)
            && escape(bytes, at + 6).is_some_and(|second| (0xDC00..0xE000).contains(&second));
        if paired {
            at += 12;
        } else if (0xD800..0xE000).contains(&first) {
            out.push_str(&json[copied..at]);
            out.push_str("\\ufffd");
            at += 6;
            copied = at;
        } else {
            at += 6;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&json[copied..]);
    Some(out)
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
    /// Why the payload was refused for its content, though well-formed otherwise.
    bad_content: Option<serde_json::Error>,
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
        match serde_json::from_str(rest) {
            Ok(value) => Ok(Some(value)),
            Err(error) => {
                let repaired =
                    without_lone_surrogates(rest).and_then(|json| serde_json::from_str(&json).ok());
                match repaired {
                    // Well-formed but for its strings: the content is refused, not the framing.
                    Some(value) => {
                        self.bad_content = Some(error);
                        Ok(Some(value))
                    }
                    None => Err(ParseError::InvalidJson(error)),
                }
            }
        }
    }
}
