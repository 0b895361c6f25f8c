//! The message record as every transport shows it, with the seed's field names
//! (`sender_id`, `createdAt`, ...): REST answers and Socket.IO events carry the same JSON.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use crate::{ConversationDetail, Member, Message, UserRef};

/// Times as the seed's stack writes them: ISO-8601 UTC with milliseconds.
pub fn iso<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// [`iso`] for optional times (`null` when absent).
pub fn iso_opt<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => iso(time, s),
        None => s.serialize_none(),
    }
}

/// `{ id, username }`, as messages and conversations embed users.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserSummary {
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

fn user_of(member: &Member) -> &UserRef {
    &member.user
}

/// A message as the seed shows it, plus its `seq`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
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
        }
    }

    /// The view of `message` inside `conversation`, whose members give names and read state.
    pub fn new(conversation: &ConversationDetail, message: &Message) -> Self {
        Self::build(
            message,
            conversation.member(message.sender_id).map(user_of),
            conversation.counterpart(message.sender_id).map(user_of),
            conversation.read_state(message),
        )
    }

    /// The view of a message just sent to `members`: nobody else has read it yet.
    pub fn fresh(message: &Message, members: &[UserRef]) -> Self {
        let sender = message.sender_id;
        Self::build(
            message,
            members.iter().find(|m| m.id == sender),
            members.iter().find(|m| m.id != sender),
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
