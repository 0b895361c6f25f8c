//! Binary data in Socket.IO packets. A BINARY_EVENT or BINARY_ACK carries its JSON with each
//! buffer replaced by a placeholder `{"_placeholder":true,"num":N}`; the N buffers follow as
//! binary Engine.IO messages, in order. This module replaces buffers by placeholders, puts
//! them back, and tracks a packet until its last attachment has arrived.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::{
    error::ParseError,
    namespace::Namespace,
    packet::{Ack, AckId, Decoded, Event, Packet, PacketData},
};

/// A JSON-like value that may hold binary buffers: what a sender passes to `emit` when some
/// arguments are binary. Subtrees without binary stay plain [`Value`]s.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// JSON without any buffer in it.
    Json(Value),
    /// A buffer, sent as an attachment.
    Binary(Bytes),
    /// An array with a buffer somewhere inside.
    Array(Vec<Data>),
    /// An object with a buffer somewhere inside, keys in order.
    Object(Vec<(String, Data)>),
}

impl Data {
    fn into_json(self) -> Option<Value> {
        match self {
            Self::Json(value) => Some(value),
            _ => None,
        }
    }
}

/// The placeholder that stands for attachment `num` in a packet's JSON.
pub fn placeholder(num: usize) -> Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

/// If `value` is a placeholder, the attachment index it names (`None` inside when `num` is
/// not a non-negative integer); `None` if it is not a placeholder at all.
fn placeholder_num(value: &Value) -> Option<Option<usize>> {
    let object = value.as_object()?;
    if object.get("_placeholder") != Some(&Value::Bool(true)) {
        return None;
    }
    let num = object.get("num").and_then(Value::as_u64);
    Some(num.and_then(|num| usize::try_from(num).ok()))
}

/// Replaces every buffer in `args` by a placeholder, numbered in depth-first order, and
/// returns the JSON arguments with the buffers they point to.
pub fn deconstruct(args: Vec<Data>) -> (Vec<Value>, Vec<Bytes>) {
    fn walk(data: Data, attachments: &mut Vec<Bytes>) -> Value {
        match data {
            Data::Json(value) => value,
            Data::Binary(bytes) => {
                attachments.push(bytes);
                placeholder(attachments.len() - 1)
            }
            Data::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| walk(item, attachments))
                    .collect(),
            ),
            Data::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, item)| (key, walk(item, attachments)))
                    .collect(),
            ),
        }
    }
    let mut attachments = Vec::new();
    let values = args
        .into_iter()
        .map(|arg| walk(arg, &mut attachments))
        .collect();
    (values, attachments)
}

/// Puts the attachments back in place of their placeholders. Fails on a placeholder that
/// names no attachment; an attachment that no placeholder names is ignored, as the
/// reference parser does.
pub fn reconstruct(args: Vec<Value>, attachments: &[Bytes]) -> Result<Vec<Data>, ParseError> {
    fn walk(value: Value, attachments: &[Bytes]) -> Result<Data, ParseError> {
        if let Some(num) = placeholder_num(&value) {
            let bytes = num.and_then(|num| attachments.get(num));
            return bytes
                .cloned()
                .map(Data::Binary)
                .ok_or(ParseError::InvalidPlaceholder);
        }
        match value {
            Value::Array(items) => {
                let items = items
                    .into_iter()
                    .map(|item| walk(item, attachments))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|item| matches!(item, Data::Json(_))) {
                    Ok(Data::Json(Value::Array(
                        items.into_iter().filter_map(Data::into_json).collect(),
                    )))
                } else {
                    Ok(Data::Array(items))
                }
            }
            Value::Object(entries) => {
                let entries = entries
                    .into_iter()
                    .map(|(key, item)| Ok((key, walk(item, attachments)?)))
                    .collect::<Result<Vec<_>, ParseError>>()?;
                if entries
                    .iter()
                    .all(|(_, item)| matches!(item, Data::Json(_)))
                {
                    let object: Map<String, Value> = entries
                        .into_iter()
                        .filter_map(|(key, item)| Some((key, item.into_json()?)))
                        .collect();
                    Ok(Data::Json(Value::Object(object)))
                } else {
                    Ok(Data::Object(entries))
                }
            }
            other => Ok(Data::Json(other)),
        }
    }
    args.into_iter().map(|arg| walk(arg, attachments)).collect()
}

/// Checks, as soon as the text of a binary packet is decoded, that every placeholder names
/// one of the `count` announced attachments.
pub(super) fn check_placeholders(args: &[Value], count: usize) -> Result<(), ParseError> {
    fn walk(value: &Value, count: usize) -> Result<(), ParseError> {
        if let Some(num) = placeholder_num(value) {
            return match num {
                Some(num) if num < count => Ok(()),
                _ => Err(ParseError::InvalidPlaceholder),
            };
        }
        match value {
            Value::Array(items) => items.iter().try_for_each(|item| walk(item, count)),
            Value::Object(entries) => entries.values().try_for_each(|item| walk(item, count)),
            _ => Ok(()),
        }
    }
    args.iter().try_for_each(|arg| walk(arg, count))
}

impl PacketData {
    /// An event whose arguments may hold buffers: a BINARY_EVENT if they do, else an EVENT.
    pub fn event_with_binary(name: impl Into<String>, args: Vec<Data>, ack: Option<AckId>) -> Self {
        let (args, attachments) = deconstruct(args);
        let event = Event {
            name: name.into(),
            args,
            ack,
        };
        if attachments.is_empty() {
            Self::Event(event)
        } else {
            Self::BinaryEvent(event, attachments)
        }
    }

    /// An acknowledgement whose arguments may hold buffers: a BINARY_ACK if they do, else an ACK.
    pub fn ack_with_binary(id: AckId, args: Vec<Data>) -> Self {
        let (args, attachments) = deconstruct(args);
        let ack = Ack { id, args };
        if attachments.is_empty() {
            Self::Ack(ack)
        } else {
            Self::BinaryAck(ack, attachments)
        }
    }
}

/// The JSON part of a binary packet whose attachments are still arriving.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum PendingData {
    Event(Event),
    Ack(Ack),
}

impl PendingData {
    pub(super) fn args(&self) -> &[Value] {
        match self {
            Self::Event(event) => &event.args,
            Self::Ack(ack) => &ack.args,
        }
    }
}

/// A binary packet waiting for its attachments: feed it each binary message in turn.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialPacket {
    namespace: Namespace,
    data: PendingData,
    expected: usize,
    attachments: Vec<Bytes>,
}

impl PartialPacket {
    pub(super) fn new(namespace: Namespace, data: PendingData, expected: usize) -> Self {
        // The count comes from the peer: never reserve more than a few slots on its word.
        let attachments = Vec::with_capacity(expected.min(4));
        Self {
            namespace,
            data,
            expected,
            attachments,
        }
    }

    /// How many attachments are still to come.
    pub fn missing(&self) -> usize {
        self.expected.saturating_sub(self.attachments.len())
    }

    /// Adds the next attachment; the packet is complete once the last one has arrived.
    pub fn add_attachment(mut self, attachment: Bytes) -> Decoded {
        self.attachments.push(attachment);
        self.into_decoded()
    }

    /// Complete if no attachment is missing, else still waiting.
    pub(super) fn into_decoded(self) -> Decoded {
        if self.missing() > 0 {
            return Decoded::Incomplete(self);
        }
        let data = match self.data {
            PendingData::Event(event) => PacketData::BinaryEvent(event, self.attachments),
            PendingData::Ack(ack) => PacketData::BinaryAck(ack, self.attachments),
        };
        Decoded::Complete(Packet::new(self.namespace, data))
    }
}
