//! The JSON records of the wire contract, with the seed's field names (`sender_id`,
//! `createdAt`, ...), built from domain entities.

use chat_domain::{ConversationDetail, Member, Message, Paged, User, UserRef};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// Times as the seed's stack writes them: ISO-8601 UTC with milliseconds.
fn iso<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn iso_opt<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => iso(time, s),
        None => s.serialize_none(),
    }
}

/// `{ id, username }`, as messages and conversations embed users.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct UserSummary {
    /// The user's id.
    pub id: i64,
    /// The user's handle.
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

fn summary(member: Option<&Member>) -> Option<UserSummary> {
    member.map(|m| UserSummary::from(&m.user))
}

/// A message as the seed returns it, plus its `seq`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MessageView {
    id: i64,
    sender_id: i64,
    receiver_id: Option<i64>,
    conversation_id: i64,
    content: String,
    attachment_url: Option<String>,
    is_read: bool,
    #[serde(serialize_with = "iso_opt")]
    read_at: Option<DateTime<Utc>>,
    #[serde(rename = "createdAt", serialize_with = "iso")]
    created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt", serialize_with = "iso")]
    updated_at: DateTime<Utc>,
    sender: Option<UserSummary>,
    receiver: Option<UserSummary>,
    seq: i64,
    #[serde(rename = "clientMessageId", skip_serializing_if = "Option::is_none")]
    client_message_id: Option<String>,
}

impl MessageView {
    /// The view of `message` inside `conversation` (whose members give names and read state).
    pub(crate) fn new(conversation: &ConversationDetail, message: &Message) -> Self {
        let receiver = conversation.counterpart(message.sender_id);
        let (is_read, read_at) = conversation.read_state(message);
        MessageView {
            id: message.id.get(),
            sender_id: message.sender_id.get(),
            receiver_id: receiver.map(|m| m.user.id.get()),
            conversation_id: message.conversation_id.get(),
            content: message.content.clone(),
            attachment_url: message.attachment_url.clone(),
            is_read,
            read_at,
            created_at: message.created_at,
            updated_at: message.updated_at,
            sender: summary(conversation.member(message.sender_id)),
            receiver: summary(receiver),
            seq: message.seq.get(),
            client_message_id: message.client_message_id.clone(),
        }
    }

    /// Views of many messages of one conversation.
    pub(crate) fn all(conversation: &ConversationDetail, messages: &[Message]) -> Vec<Self> {
        messages
            .iter()
            .map(|m| Self::new(conversation, m))
            .collect()
    }
}

/// A conversation as the seed returns it: the pair, smaller id first, and the last message.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ConversationView {
    id: i64,
    participant_1_id: Option<i64>,
    participant_2_id: Option<i64>,
    last_message: Option<String>,
    #[serde(serialize_with = "iso_opt")]
    last_message_at: Option<DateTime<Utc>>,
    #[serde(rename = "createdAt", serialize_with = "iso")]
    created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt", serialize_with = "iso")]
    updated_at: DateTime<Utc>,
    participant1: Option<UserSummary>,
    participant2: Option<UserSummary>,
    last_seq: i64,
}

impl From<&ConversationDetail> for ConversationView {
    fn from(detail: &ConversationDetail) -> Self {
        let c = &detail.conversation;
        let (first, second) = (detail.members.first(), detail.members.get(1));
        ConversationView {
            id: c.id.get(),
            participant_1_id: first.map(|m| m.user.id.get()),
            participant_2_id: second.map(|m| m.user.id.get()),
            last_message: c.last_message.clone(),
            last_message_at: c.last_message_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            participant1: summary(first),
            participant2: summary(second),
            last_seq: c.last_seq.get(),
        }
    }
}

/// A user's public profile.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct UserView {
    id: i64,
    username: String,
    #[serde(rename = "displayName")]
    display_name: Option<String>,
    #[serde(rename = "avatarUrl")]
    avatar_url: Option<String>,
    #[serde(rename = "createdAt", serialize_with = "iso")]
    created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            id: user.id.get(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            avatar_url: user.avatar_url.clone(),
            created_at: user.created_at,
        }
    }
}

/// The seed's pagination block.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub(crate) struct Pagination {
    total: i64,
    page: u32,
    limit: u32,
    #[serde(rename = "totalPages")]
    total_pages: i64,
}

impl Pagination {
    /// The block for one page of a list of `total` items.
    pub(crate) fn new(total: i64, page: u32, limit: u32) -> Self {
        let limit_i = i64::from(limit.max(1));
        Pagination {
            total,
            page,
            limit,
            total_pages: (total + limit_i - 1) / limit_i,
        }
    }

    /// The block for a domain page.
    pub(crate) fn of<T>(paged: &Paged<T>, page: u32, limit: u32) -> Self {
        Self::new(paged.total, page, limit)
    }
}
