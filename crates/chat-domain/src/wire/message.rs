//! The message record as every transport shows it, with the seed's field names
//! (`sender_id`, `createdAt`, ...): REST answers and Socket.IO events carry the same JSON.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{iso, iso_opt};
use crate::{ConversationDetail, ConversationKind, Member, Message, MessageSent, UserRef};

/// `{ id, username }`, as messages and conversations embed users.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSummary {
    /// The user's id.
    #[cfg_attr(feature = "openapi", schema(examples(1)))]
    pub id: i64,
    /// The user's handle.
    #[cfg_attr(feature = "openapi", schema(examples("alice")))]
    pub username: String,
}

impl From<&UserRef> for UserSummary {
    fn from(user: &UserRef) -> Self {
        UserSummary {
            id: user.id.get(),
            username: user.username.clone(),
        }
    }
}

fn user_of(member: &Member) -> &UserRef {
    &member.user
}

/// A message, with the field names of the service this server replaces, plus its `seq`.
/// Times are ISO-8601 UTC with milliseconds (`2026-01-01T12:00:00.000Z`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Message))]
pub struct MessageView {
    /// The message id.
    id: i64,
    /// Who sent it.
    sender_id: i64,
    /// The other member of the conversation.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    receiver_id: Option<i64>,
    /// The conversation it belongs to.
    conversation_id: i64,
    /// The text.
    content: String,
    /// The attachment's URL, or null.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    attachment_url: Option<String>,
    /// Whether the receiver has read it.
    is_read: bool,
    /// When the receiver read it, or null.
    #[serde(serialize_with = "iso_opt")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    read_at: Option<DateTime<Utc>>,
    /// When it was sent.
    #[serde(rename = "createdAt", serialize_with = "iso")]
    created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(rename = "updatedAt", serialize_with = "iso")]
    updated_at: DateTime<Utc>,
    /// The sender's `{ id, username }`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    sender: Option<UserSummary>,
    /// The receiver's `{ id, username }`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    receiver: Option<UserSummary>,
    /// The message's gapless position in its conversation (1, 2, ...): the order, and the
    /// cursor for `before` / `after`.
    seq: i64,
    /// The sender's `clientMessageId`, when the send gave one.
    #[serde(rename = "clientMessageId", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    client_message_id: Option<String>,
    /// When its sender last edited it; absent for a message never edited (its earlier
    /// versions: `GET /api/chat/messages/{id}/history`).
    #[serde(
        rename = "editedAt",
        serialize_with = "iso_opt",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    edited_at: Option<DateTime<Utc>>,
    /// Its reactions, `[{ key, count, me }]`, keys in the order first used; absent when it has
    /// none (and in live events, which carry reactions as events of their own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    reactions: Vec<ReactionView>,
    /// The message of this conversation it replies to, as it is now; absent for a message
    /// that replies to nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    reply_to: Option<ReplyToView>,
    /// How many visible replies it has (its thread: `GET /api/chat/messages/{id}/replies`);
    /// absent when it has none, and in live events (a new reply's `reply_to` says which
    /// count grew).
    #[serde(skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, minimum = 1))]
    reply_count: i64,
    /// Where this forwarded copy came from; absent for a message that is no forward.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    forwarded_from: Option<ForwardedFromView>,
    /// The ids of the members it mentions (`@username`, resolved when it was sent), in the
    /// order first mentioned; absent when it mentions nobody.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    mentions: Vec<i64>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Where a forwarded copy came from: `{ messageId, conversationId, senderId }`, the original
/// (a forward of a forward names the first). Only ids: the copy shows nothing else of a
/// conversation its readers may not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForwardedFromView {
    /// The original message.
    #[serde(rename = "messageId")]
    pub message_id: i64,
    /// Its conversation.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// Who sent it.
    #[serde(rename = "senderId")]
    pub sender_id: i64,
}

impl From<crate::ForwardedFrom> for ForwardedFromView {
    fn from(from: crate::ForwardedFrom) -> Self {
        ForwardedFromView {
            message_id: from.message_id.get(),
            conversation_id: from.conversation_id.get(),
            sender_id: from.sender_id.get(),
        }
    }
}

/// The message a reply answers: `{ id, sender, excerpt, deleted }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyToView {
    /// The parent's id.
    #[cfg_attr(feature = "openapi", schema(examples(41)))]
    pub id: i64,
    /// Who sent the parent, `{ id, username }`.
    pub sender: UserSummary,
    /// The start of the parent's text: at most 100 characters (grapheme clusters), ending in
    /// `…` when cut; null once the parent is deleted (its text is never shown again).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub excerpt: Option<String>,
    /// Whether the parent was deleted.
    pub deleted: bool,
}

impl From<&crate::ReplyTo> for ReplyToView {
    fn from(parent: &crate::ReplyTo) -> Self {
        ReplyToView {
            id: parent.id.get(),
            sender: UserSummary::from(&parent.sender),
            excerpt: parent.excerpt.clone(),
            deleted: parent.excerpt.is_none(),
        }
    }
}

/// One reaction key on a message, as the reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionView {
    /// The emoji or short name.
    pub key: String,
    /// How many members reacted with it.
    pub count: i64,
    /// Whether the reader is one of them.
    pub me: bool,
}

impl From<&crate::Reaction> for ReactionView {
    fn from(reaction: &crate::Reaction) -> Self {
        ReactionView {
            key: reaction.key.as_str().to_owned(),
            count: reaction.count,
            me: reaction.me,
        }
    }
}

impl MessageView {
    fn build(
        message: &Message,
        sender: Option<&UserRef>,
        receiver: Option<&UserRef>,
        (is_read, read_at): (bool, Option<DateTime<Utc>>),
    ) -> Self {
        MessageView {
            id: message.id.get(),
            sender_id: message.sender_id.get(),
            receiver_id: receiver.map(|u| u.id.get()),
            conversation_id: message.conversation_id.get(),
            content: message.content.clone(),
            attachment_url: message.attachment_url.clone(),
            is_read,
            read_at,
            created_at: message.created_at,
            updated_at: message.updated_at,
            sender: sender.map(UserSummary::from),
            receiver: receiver.map(UserSummary::from),
            seq: message.seq.get(),
            client_message_id: message.client_message_id.clone(),
            edited_at: message.edited_at,
            reactions: message.reactions.iter().map(ReactionView::from).collect(),
            reply_to: message.reply_to.as_ref().map(ReplyToView::from),
            reply_count: message.reply_count,
            forwarded_from: message.forwarded_from.map(ForwardedFromView::from),
            mentions: message.mentions.iter().map(|id| id.get()).collect(),
        }
    }

    /// The view of `message` inside `conversation`, whose members give names and read state.
    /// A group message has no receiver (`receiver_id` and `receiver` are null), and its
    /// `is_read` means read by every other member.
    pub fn new(conversation: &ConversationDetail, message: &Message) -> Self {
        let direct = conversation.conversation.kind == ConversationKind::Direct;
        Self::build(
            message,
            conversation.member(message.sender_id).map(user_of),
            conversation
                .counterpart(message.sender_id)
                .map(user_of)
                .filter(|_| direct),
            conversation.read_state(message),
        )
    }

    /// The view of a message just sent: nobody else has read it yet.
    pub fn fresh(sent: &MessageSent) -> Self {
        Self::unread(&sent.message, &sent.members, sent.kind)
    }

    /// The view of a message of a conversation of `kind` with `members`, as nobody but its
    /// sender has read it (as it was sent).
    pub fn unread(message: &Message, members: &[UserRef], kind: ConversationKind) -> Self {
        let sender = message.sender_id;
        Self::build(
            message,
            members.iter().find(|m| m.id == sender),
            members
                .iter()
                .find(|m| m.id != sender)
                .filter(|_| kind == ConversationKind::Direct),
            (false, None),
        )
    }

    /// Views of many messages of one conversation.
    pub fn all(conversation: &ConversationDetail, messages: &[Message]) -> Vec<Self> {
        messages
            .iter()
            .map(|m| Self::new(conversation, m))
            .collect()
    }
}
