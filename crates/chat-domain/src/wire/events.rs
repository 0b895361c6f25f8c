//! The catalogue of Socket.IO events the server emits, each name paired with its payload type
//! in [`ServerEvent`], and the acknowledgements it answers client events with ([`AckDone`],
//! [`AckRefused`]). Transports build these types, never JSON by hand.
//!
//! Field order is part of the wire: an event is written as its type declares it, so each
//! payload declares its fields in the order clients have always received them (alphabetical
//! where the payload used to be a JSON object literal). Acks travel as `serde_json::Value`,
//! whose keys are sorted whatever the declaration.

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use super::acks::{AckData, AckDone, AckRefused, CatchUp, MarkedRead};
use super::{ConversationNotice, MembershipNotice, MessageView, iso};
use crate::{
    ChatError, ChatEvent, ConversationId, MessageDeleted, MessageSent, MessagesRead, UserId,
};

/// Every event the server emits on the main namespace, with its payload. Serialized, it is the
/// payload alone; [`ServerEvent::name`] is the event's name.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ServerEvent {
    /// `new_message`: a message in a conversation whose room the socket joined.
    NewMessage(MessageView),
    /// `message_notification`: a new message, for members whose sockets are not in its room.
    MessageNotification(MessageNotification),
    /// `messages_read`: a member's read watermark moved.
    MessagesRead(ReadReport),
    /// `message_deleted`: a message was deleted.
    MessageDeleted(Deletion),
    /// `user_typing`: another member started typing.
    UserTyping(MemberActivity),
    /// `user_stopped_typing`: another member stopped typing.
    UserStoppedTyping(MemberActivity),
    /// `user_joined`: another socket joined the conversation's room.
    UserJoined(MemberActivity),
    /// `user_left`: a socket in the conversation's room disconnected.
    UserLeft(MemberActivity),
    /// `user_online`: a contact's first socket connected.
    UserOnline(Presence),
    /// `user_offline`: a contact's last socket disconnected.
    UserOffline(Presence),
    /// `error`: a client event was refused, or the token expired.
    Error(ErrorNotice),
    /// `conversation_created`: a group the socket's user belongs to was created.
    ConversationCreated(ConversationNotice),
    /// `conversation_updated`: a group's title or picture changed.
    ConversationUpdated(ConversationNotice),
    /// `member_added`: someone joined a group.
    MemberAdded(MembershipNotice),
    /// `member_removed`: someone left a group or was removed.
    MemberRemoved(MembershipNotice),
    /// `member_role_changed`: a member's role changed.
    MemberRoleChanged(MembershipNotice),
    /// `message_edited`: a message's sender edited it; the message as it is now (with
    /// `editedAt`).
    MessageEdited(MessageView),
    /// `message_pinned`: a message was pinned.
    MessagePinned(PinNotice),
    /// `message_unpinned`: a message was unpinned.
    MessageUnpinned(PinNotice),
    /// `reaction_added`: a member reacted to a message.
    ReactionAdded(ReactionNotice),
    /// `reaction_removed`: a member took a reaction back.
    ReactionRemoved(ReactionNotice),
    /// `mention`: a new message mentions the user, whose sockets are not in its room.
    Mention(MessageNotification),
}

impl ServerEvent {
    /// Every event name the server emits, for documentation and tests.
    pub const NAMES: [&'static str; 22] = [
        "new_message",
        "message_notification",
        "messages_read",
        "message_deleted",
        "user_typing",
        "user_stopped_typing",
        "user_joined",
        "user_left",
        "user_online",
        "user_offline",
        "error",
        "conversation_created",
        "conversation_updated",
        "member_added",
        "member_removed",
        "member_role_changed",
        "message_edited",
        "message_pinned",
        "message_unpinned",
        "reaction_added",
        "reaction_removed",
        "mention",
    ];

    /// The event's name on the wire.
    pub fn name(&self) -> &'static str {
        let index = match self {
            ServerEvent::NewMessage(_) => 0,
            ServerEvent::MessageNotification(_) => 1,
            ServerEvent::MessagesRead(_) => 2,
            ServerEvent::MessageDeleted(_) => 3,
            ServerEvent::UserTyping(_) => 4,
            ServerEvent::UserStoppedTyping(_) => 5,
            ServerEvent::UserJoined(_) => 6,
            ServerEvent::UserLeft(_) => 7,
            ServerEvent::UserOnline(_) => 8,
            ServerEvent::UserOffline(_) => 9,
            ServerEvent::Error(_) => 10,
            ServerEvent::ConversationCreated(_) => 11,
            ServerEvent::ConversationUpdated(_) => 12,
            ServerEvent::MemberAdded(_) => 13,
            ServerEvent::MemberRemoved(_) => 14,
            ServerEvent::MemberRoleChanged(_) => 15,
            ServerEvent::MessageEdited(_) => 16,
            ServerEvent::MessagePinned(_) => 17,
            ServerEvent::MessageUnpinned(_) => 18,
            ServerEvent::ReactionAdded(_) => 19,
            ServerEvent::ReactionRemoved(_) => 20,
            ServerEvent::Mention(_) => 21,
        };
        Self::NAMES[index]
    }

    /// What a conversation's room (and whoever else a delivery names) gets for a domain
    /// event: each domain event has exactly one server event.
    pub fn in_room(event: &ChatEvent) -> Self {
        match event {
            ChatEvent::MessageSent(sent) => Self::new_message(sent),
            ChatEvent::MessagesRead(read) => ServerEvent::MessagesRead(ReadReport::from(read)),
            ChatEvent::MessageDeleted(deleted) => {
                ServerEvent::MessageDeleted(Deletion::from(deleted))
            }
            ChatEvent::ConversationCreated(changed) => {
                ServerEvent::ConversationCreated(changed.into())
            }
            ChatEvent::ConversationUpdated(changed) => {
                ServerEvent::ConversationUpdated(changed.into())
            }
            ChatEvent::MemberAdded(changed) => ServerEvent::MemberAdded(changed.into()),
            ChatEvent::MemberRemoved(changed) => ServerEvent::MemberRemoved(changed.into()),
            ChatEvent::MemberRoleChanged(changed) => ServerEvent::MemberRoleChanged(changed.into()),
            ChatEvent::MessageEdited(edited) => ServerEvent::MessageEdited(MessageView::unread(
                &edited.message,
                &edited.members,
                edited.kind,
            )),
            ChatEvent::MessagePinned(pin) => ServerEvent::MessagePinned(pin.into()),
            ChatEvent::MessageUnpinned(pin) => ServerEvent::MessageUnpinned(pin.into()),
            ChatEvent::ReactionAdded(reaction) => ServerEvent::ReactionAdded(reaction.into()),
            ChatEvent::ReactionRemoved(reaction) => ServerEvent::ReactionRemoved(reaction.into()),
        }
    }

    /// `new_message` for a message just sent.
    pub fn new_message(sent: &MessageSent) -> Self {
        ServerEvent::NewMessage(MessageView::fresh(sent))
    }

    /// `message_notification` for a message just sent.
    pub fn notification(sent: &MessageSent) -> Self {
        ServerEvent::MessageNotification(MessageNotification::of(sent))
    }

    /// `mention` for a message just sent, to a member it mentions.
    pub fn mention(sent: &MessageSent) -> Self {
        ServerEvent::Mention(MessageNotification::of(sent))
    }
}

impl MessageNotification {
    fn of(sent: &MessageSent) -> Self {
        MessageNotification {
            conversation_id: sent.message.conversation_id.get(),
            sender_id: sent.message.sender_id.get(),
            message: MessageView::fresh(sent),
        }
    }
}

/// `message_notification` and `mention`: `{ conversationId, senderId, message }`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageNotification {
    /// The conversation the message belongs to.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// Who sent it.
    #[serde(rename = "senderId")]
    pub sender_id: i64,
    /// The message.
    pub message: MessageView,
}

/// `messages_read`: `{ conversationId, userId, readAt, lastReadSeq }`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadReport {
    /// The conversation that was read.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// Who read it.
    #[serde(rename = "userId")]
    pub user_id: i64,
    /// When (ISO-8601 UTC with milliseconds).
    #[serde(rename = "readAt", serialize_with = "iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub read_at: DateTime<Utc>,
    /// The reader's new watermark: every message up to this `seq` is read.
    #[serde(rename = "lastReadSeq")]
    pub last_read_seq: i64,
}

impl From<&MessagesRead> for ReadReport {
    fn from(read: &MessagesRead) -> Self {
        ReadReport {
            conversation_id: read.conversation_id.get(),
            user_id: read.user_id.get(),
            read_at: read.read_at,
            last_read_seq: read.last_read_seq.get(),
        }
    }
}

/// `message_deleted`: `{ conversationId, deletedBy, messageId, seq }`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deletion {
    /// The conversation the message belonged to.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// Who deleted it (its sender).
    #[serde(rename = "deletedBy")]
    pub deleted_by: i64,
    /// The deleted message.
    #[serde(rename = "messageId")]
    pub message_id: i64,
    /// The deleted message's `seq`.
    pub seq: i64,
}

impl From<&MessageDeleted> for Deletion {
    fn from(deleted: &MessageDeleted) -> Self {
        Deletion {
            conversation_id: deleted.conversation_id.get(),
            deleted_by: deleted.deleted_by.get(),
            message_id: deleted.message_id.get(),
            seq: deleted.seq.get(),
        }
    }
}

/// A member doing something in a conversation (typing, joining, leaving):
/// `{ conversationId, userId }`.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberActivity {
    /// The conversation.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// The member.
    #[serde(rename = "userId")]
    pub user_id: i64,
}

impl MemberActivity {
    /// `user` in conversation `conversation`.
    pub fn new(user: UserId, conversation: ConversationId) -> Self {
        MemberActivity {
            conversation_id: conversation.get(),
            user_id: user.get(),
        }
    }
}

/// A contact coming online or going offline: `{ userId }`.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Presence {
    /// The contact.
    #[serde(rename = "userId")]
    pub user_id: i64,
}

impl From<UserId> for Presence {
    fn from(user: UserId) -> Self {
        Presence {
            user_id: user.get(),
        }
    }
}

/// `error`: `{ message, code, event? }`, the refused client event named when there is one.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorNotice {
    /// What went wrong, for people.
    pub message: String,
    /// A stable code for programs (the ack's `code`, or `token_expired`).
    pub code: String,
    /// The client event that was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

impl ErrorNotice {
    /// The notice of client event `event` refused for `error`, in the words of its ack.
    pub fn refused(event: &str, error: &ChatError) -> Self {
        ErrorNotice {
            message: error.client_message(),
            code: error.code().to_owned(),
            event: Some(event.to_owned()),
        }
    }

    /// The notice a socket gets before the server disconnects it because its token expired,
    /// so that it knows to get a new token rather than to reconnect as it is.
    pub fn token_expired() -> Self {
        ErrorNotice {
            message: "Token expired".to_owned(),
            code: "token_expired".to_owned(),
            event: None,
        }
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;

/// `message_pinned` / `message_unpinned`: `{ conversationId, messageId, seq, by }`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinNotice {
    /// The conversation.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// The message.
    #[serde(rename = "messageId")]
    pub message_id: i64,
    /// Its place in the conversation.
    pub seq: i64,
    /// Who pinned or unpinned it.
    pub by: i64,
}

impl From<&crate::PinChanged> for PinNotice {
    fn from(pin: &crate::PinChanged) -> Self {
        PinNotice {
            conversation_id: pin.conversation_id.get(),
            message_id: pin.message_id.get(),
            seq: pin.seq.get(),
            by: pin.by.get(),
        }
    }
}

/// `reaction_added` / `reaction_removed`: `{ conversationId, messageId, seq, key, userId,
/// count }`, `count` being how many members react with `key` after the change.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionNotice {
    /// The conversation.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// The message.
    #[serde(rename = "messageId")]
    pub message_id: i64,
    /// Its place in the conversation.
    pub seq: i64,
    /// The emoji or short name.
    pub key: String,
    /// Who reacted, or took it back.
    #[serde(rename = "userId")]
    pub user_id: i64,
    /// How many members react with `key` now.
    pub count: i64,
}

impl From<&crate::ReactionChanged> for ReactionNotice {
    fn from(reaction: &crate::ReactionChanged) -> Self {
        ReactionNotice {
            conversation_id: reaction.conversation_id.get(),
            message_id: reaction.message_id.get(),
            seq: reaction.seq.get(),
            key: reaction.key.as_str().to_owned(),
            user_id: reaction.user_id.get(),
            count: reaction.count,
        }
    }
}
