//! Row structs as the database returns them, and their mapping to domain entities.

use chat_domain::{
    ChatError, Conversation, ConversationDetail, ConversationId, ConversationKind, ForwardedFrom,
    Member, Message, MessageId, Role, Seq, User, UserId, UserRef,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::{conversation_members, conversations, messages, users};

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    display_name: Option<String>,
    avatar_url: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UserRow {
    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: UserId(row.id),
            username: row.username,
            display_name: row.display_name,
            avatar_url: row.avatar_url,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = conversations, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ConversationRow {
    pub(crate) id: i64,
    kind: String,
    title: Option<String>,
    avatar_url: Option<String>,
    last_seq: i64,
    message_count: i64,
    last_message: Option<String>,
    last_message_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ConversationRow> for Conversation {
    type Error = ChatError;

    fn try_from(row: ConversationRow) -> Result<Self, ChatError> {
        let kind = ConversationKind::parse(&row.kind)
            .ok_or_else(|| corrupt("conversations.kind", &row.kind))?;
        Ok(Conversation {
            id: ConversationId(row.id),
            kind,
            title: row.title,
            avatar_url: row.avatar_url,
            last_seq: Seq(row.last_seq),
            message_count: row.message_count,
            last_message: row.last_message,
            last_message_at: row.last_message_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A role as the database spells it ([`Role::as_str`]).
pub(crate) fn role_of(name: &str) -> Result<Role, ChatError> {
    Role::parse(name).ok_or_else(|| corrupt("role", name))
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = conversation_members, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MemberRow {
    user_id: i64,
    role: String,
    last_read_seq: i64,
    last_read_at: Option<DateTime<Utc>>,
    joined_at: DateTime<Utc>,
}

impl MemberRow {
    pub(crate) fn into_member(self, username: String) -> Result<Member, ChatError> {
        let role = role_of(&self.role)?;
        Ok(Member {
            user: UserRef {
                id: UserId(self.user_id),
                username,
            },
            role,
            last_read_seq: Seq(self.last_read_seq),
            last_read_at: self.last_read_at,
            joined_at: self.joined_at,
        })
    }
}

/// One conversation joined with one of its members and the member's username: how every
/// conversation view is read, in a single query.
#[derive(Debug, Queryable, QueryableByName)]
pub(crate) struct ConversationMemberRow {
    #[diesel(embed)]
    pub(crate) conversation: ConversationRow,
    #[diesel(embed)]
    pub(crate) member: MemberRow,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) username: String,
}

/// Groups joined rows into conversations with their members, keeping the order in which each
/// conversation first appears.
pub(crate) fn assemble(
    rows: Vec<ConversationMemberRow>,
) -> Result<Vec<ConversationDetail>, ChatError> {
    let mut details: Vec<ConversationDetail> = Vec::new();
    for row in rows {
        let member = row.member.into_member(row.username)?;
        match details.last_mut() {
            Some(detail) if detail.conversation.id.get() == row.conversation.id => {
                detail.members.push(member);
            }
            _ => details.push(ConversationDetail {
                conversation: row.conversation.try_into()?,
                members: vec![member],
            }),
        }
    }
    Ok(details)
}

#[derive(Debug, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = messages, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MessageRow {
    id: i64,
    conversation_id: i64,
    seq: i64,
    sender_id: i64,
    content: String,
    attachment_url: Option<String>,
    client_message_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    edited_at: Option<DateTime<Utc>>,
    reply_to_id: Option<i64>,
    forwarded_message_id: Option<i64>,
    forwarded_conversation_id: Option<i64>,
    forwarded_sender_id: Option<i64>,
    mentions: Option<Vec<i64>>,
}

impl MessageRow {
    fn forwarded_from(&self) -> Option<ForwardedFrom> {
        forwarded_from(
            self.forwarded_message_id,
            self.forwarded_conversation_id,
            self.forwarded_sender_id,
        )
    }
}

/// The members a message mentions, from its `mentions` column (`NULL` for none).
pub(crate) fn mentions(raw: Option<Vec<i64>>) -> Vec<UserId> {
    raw.unwrap_or_default().into_iter().map(UserId).collect()
}

/// Where a message was forwarded from, from its three columns (all set, or none).
pub(crate) fn forwarded_from(
    message: Option<i64>,
    conversation: Option<i64>,
    sender: Option<i64>,
) -> Option<ForwardedFrom> {
    Some(ForwardedFrom {
        message_id: MessageId(message?),
        conversation_id: ConversationId(conversation?),
        sender_id: UserId(sender?),
    })
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        let forwarded_from = row.forwarded_from();
        Message {
            id: MessageId(row.id),
            conversation_id: ConversationId(row.conversation_id),
            seq: Seq(row.seq),
            sender_id: UserId(row.sender_id),
            content: row.content,
            attachment_url: row.attachment_url,
            client_message_id: row.client_message_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            edited_at: row.edited_at,
            reactions: Vec::new(),
            reply_to_id: row.reply_to_id.map(MessageId),
            reply_to: None,
            reply_count: 0,
            forwarded_from,
            mentions: mentions(row.mentions),
        }
    }
}

fn corrupt(column: &str, value: &str) -> ChatError {
    ChatError::Internal(format!("unexpected value {value:?} in {column}").into())
}
