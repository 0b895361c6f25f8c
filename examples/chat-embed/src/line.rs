//! The host's line format: one JSON object per event, with its place in the stream.

use chat_domain::{ChatEvent, StreamEvent};
use serde::Serialize;

/// One forwarded event as the host's consumers read it:
/// `{"writer":3,"position":17,"conversation_id":11,"kind":"message_sent","event":{...}}`.
///
/// `writer` and `position` name the event's place in the stream: within one writer,
/// positions are gapless and each conversation's events are in order, so a consumer can
/// drop a repeat (`position` at or below the last it saw from that writer) after a retry.
/// `event` is the domain's record of what happened ([`chat_domain::MessageSent`] and the
/// others), serialized as the domain serializes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventLine {
    /// The stream writer (below [`chat_domain::STREAM_WRITERS`]).
    pub writer: usize,
    /// The position within that writer, from 1.
    pub position: i64,
    /// The conversation the event belongs to.
    pub conversation_id: i64,
    /// What happened, in snake_case (`message_sent`, `messages_read`, ...).
    pub kind: &'static str,
    /// The event's record.
    pub event: serde_json::Value,
}

impl EventLine {
    /// The line of one committed event.
    pub fn new(event: &StreamEvent) -> Result<Self, serde_json::Error> {
        let (kind, record) = match &event.event {
            ChatEvent::MessageSent(e) => ("message_sent", serde_json::to_value(e)),
            ChatEvent::MessagesRead(e) => ("messages_read", serde_json::to_value(e)),
            ChatEvent::MessageDeleted(e) => ("message_deleted", serde_json::to_value(e)),
            ChatEvent::MessageEdited(e) => ("message_edited", serde_json::to_value(e)),
            ChatEvent::MessagePinned(e) => ("message_pinned", serde_json::to_value(e)),
            ChatEvent::MessageUnpinned(e) => ("message_unpinned", serde_json::to_value(e)),
            ChatEvent::ReactionAdded(e) => ("reaction_added", serde_json::to_value(e)),
            ChatEvent::ReactionRemoved(e) => ("reaction_removed", serde_json::to_value(e)),
            ChatEvent::ConversationCreated(e) => ("conversation_created", serde_json::to_value(e)),
            ChatEvent::ConversationUpdated(e) => ("conversation_updated", serde_json::to_value(e)),
            ChatEvent::MemberAdded(e) => ("member_added", serde_json::to_value(e)),
            ChatEvent::MemberRemoved(e) => ("member_removed", serde_json::to_value(e)),
            ChatEvent::MemberRoleChanged(e) => ("member_role_changed", serde_json::to_value(e)),
        };
        Ok(EventLine {
            writer: event.position.writer,
            position: event.position.position,
            conversation_id: event.conversation_id().get(),
            kind,
            event: record?,
        })
    }
}
