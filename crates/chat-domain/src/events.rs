//! What happened, told to whoever delivers it (the realtime hub, later a cluster bus).
//!
//! Events are published only after the store has committed, so nobody is told about a
//! message that could still vanish. They serialize (serde) so that a cluster's bus can carry
//! them between nodes; that form is internal to one deployment's nodes, not a client wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    ConversationDetail, ConversationId, ConversationKind, Message, MessageId, PinChanged,
    ReactionChanged, Role, Seq, StreamEvent, UserId, UserRef,
};

/// A message was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSent {
    /// The stored message, with its `seq`.
    pub message: Message,
    /// Every member of the conversation, sender included, so that delivery needs no lookup.
    pub members: Vec<UserRef>,
    /// Direct or group (a group message has no receiver).
    pub kind: ConversationKind,
}

/// A message's sender edited it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEdited {
    /// The message as the edit left it (its `content`, `edited_at`).
    pub message: Message,
    /// Every member of the conversation, so that delivery needs no lookup.
    pub members: Vec<UserRef>,
    /// Direct or group.
    pub kind: ConversationKind,
}

/// A member's read watermark moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesRead {
    /// The conversation that was read.
    pub conversation_id: ConversationId,
    /// Who read it.
    pub user_id: UserId,
    /// The new watermark.
    pub last_read_seq: Seq,
    /// When.
    pub read_at: DateTime<Utc>,
}

/// A message was deleted by its sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDeleted {
    /// Where it was.
    pub conversation_id: ConversationId,
    /// Which message.
    pub message_id: MessageId,
    /// Its position, so clients can drop it from an ordered view.
    pub seq: Seq,
    /// Who deleted it (always the sender).
    pub deleted_by: UserId,
}

/// A group was created or its settings changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationChanged {
    /// The conversation as it is now, with its members (whom a creation is announced to).
    pub conversation: ConversationDetail,
    /// Who made the change.
    pub by: UserId,
}

/// A member joined a group, left or was removed, or got a new role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberChanged {
    /// The group.
    pub conversation_id: ConversationId,
    /// The member the change is about.
    pub member: UserRef,
    /// Their role now (for a removal: the role they had).
    pub role: Role,
    /// Who made the change (the member themselves when they left).
    pub by: UserId,
}

/// Everything the domain announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChatEvent {
    /// See [`MessageSent`].
    MessageSent(MessageSent),
    /// See [`MessagesRead`].
    MessagesRead(MessagesRead),
    /// See [`MessageDeleted`].
    MessageDeleted(MessageDeleted),
    /// See [`MessageEdited`].
    MessageEdited(MessageEdited),
    /// A message was pinned; see [`PinChanged`].
    MessagePinned(PinChanged),
    /// A message was unpinned; see [`PinChanged`].
    MessageUnpinned(PinChanged),
    /// A member reacted to a message; see [`ReactionChanged`].
    ReactionAdded(ReactionChanged),
    /// A member took a reaction back; see [`ReactionChanged`].
    ReactionRemoved(ReactionChanged),
    /// A group was created; see [`ConversationChanged`].
    ConversationCreated(ConversationChanged),
    /// A group's title or picture changed; see [`ConversationChanged`].
    ConversationUpdated(ConversationChanged),
    /// Someone joined a group; see [`MemberChanged`].
    MemberAdded(MemberChanged),
    /// Someone left a group or was removed; see [`MemberChanged`].
    MemberRemoved(MemberChanged),
    /// A member's role changed; see [`MemberChanged`].
    MemberRoleChanged(MemberChanged),
}

impl ChatEvent {
    /// The conversation the event belongs to (which orders it).
    pub fn conversation_id(&self) -> ConversationId {
        match self {
            ChatEvent::MessageSent(sent) => sent.message.conversation_id,
            ChatEvent::MessageEdited(edited) => edited.message.conversation_id,
            ChatEvent::MessagePinned(pin) | ChatEvent::MessageUnpinned(pin) => pin.conversation_id,
            ChatEvent::ReactionAdded(reaction) | ChatEvent::ReactionRemoved(reaction) => {
                reaction.conversation_id
            }
            ChatEvent::MessageDeleted(deleted) => deleted.conversation_id,
            ChatEvent::MessagesRead(read) => read.conversation_id,
            ChatEvent::ConversationCreated(changed) | ChatEvent::ConversationUpdated(changed) => {
                changed.conversation.conversation.id
            }
            ChatEvent::MemberAdded(changed)
            | ChatEvent::MemberRemoved(changed)
            | ChatEvent::MemberRoleChanged(changed) => changed.conversation_id,
        }
    }

    /// The whole message the event carries, for the events that carry one (a new message,
    /// an edit): what a store completes (its parent) before a replay hands the event out.
    pub fn message_mut(&mut self) -> Option<&mut crate::Message> {
        match self {
            ChatEvent::MessageSent(sent) => Some(&mut sent.message),
            ChatEvent::MessageEdited(edited) => Some(&mut edited.message),
            _ => None,
        }
    }
}

/// Where the domain publishes events, each with its place in the stream; the bus that carries
/// them to the realtime hubs implements it. Publishing must not block: an implementation
/// queues and returns. A sink may lose an event (the receivers fill gaps from the store by
/// position), never invent one.
pub trait EventSink: Send + Sync + 'static {
    /// Hands over one event; called after the write it describes has committed.
    fn publish(&self, event: StreamEvent);

    /// Whether published events reach every receiver now. A process's own bus always does; a
    /// cluster's bus does not while its connection is lost (receivers then catch up from the
    /// store), and the node reports itself not ready meanwhile.
    fn connected(&self) -> bool {
        true
    }
}

/// A sink that drops every event, for embedders without realtime delivery.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardEvents;

impl EventSink for DiscardEvents {
    fn publish(&self, _event: StreamEvent) {}
}

impl<T: EventSink + ?Sized> EventSink for std::sync::Arc<T> {
    fn publish(&self, event: StreamEvent) {
        (**self).publish(event);
    }

    fn connected(&self) -> bool {
        (**self).connected()
    }
}
