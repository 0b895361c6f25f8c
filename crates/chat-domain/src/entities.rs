//! The records the domain works with, as every store returns them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConversationId, MessageId, Seq, UserId};

/// A person who can chat; the host application usually owns the account itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The host application's id for this user.
    pub id: UserId,
    /// The handle shown to other users.
    pub username: String,
    /// A longer name, when the host provides one.
    pub display_name: Option<String>,
    /// A picture, when the host provides one.
    pub avatar_url: Option<String>,
    /// When the user was first seen.
    pub created_at: DateTime<Utc>,
    /// When the profile last changed.
    pub updated_at: DateTime<Utc>,
}

/// The id and name of a user, which is all that message and conversation views show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// The user's id.
    pub id: UserId,
    /// The user's handle.
    pub username: String,
}

/// Whether a conversation is the one conversation of a pair, or a group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// Exactly two members; a pair has at most one.
    Direct,
    /// Any number of members, with roles.
    Group,
}

impl ConversationKind {
    /// The kind's name, as the wire and the database spell it (`direct`, `group`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [ConversationKind::Direct, ConversationKind::Group]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// What a member may do in a conversation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Created the conversation; may manage everything.
    Owner,
    /// May manage members.
    Admin,
    /// May read and write.
    Member,
}

impl Role {
    /// The role's name, as the wire and the database spell it (`owner`, `admin`, `member`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// The role named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Role::Owner, Role::Admin, Role::Member]
            .into_iter()
            .find(|role| role.as_str() == name)
    }
}

/// A conversation's own record, with the counters kept beside it so that lists need no
/// counting over history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The conversation's id.
    pub id: ConversationId,
    /// Direct or group.
    pub kind: ConversationKind,
    /// A group's name; direct conversations have none.
    pub title: Option<String>,
    /// A group's picture, if set.
    pub avatar_url: Option<String>,
    /// The highest `seq` handed out so far (0 before the first message).
    pub last_seq: Seq,
    /// How many messages are visible (not deleted).
    pub message_count: i64,
    /// The content of the newest visible message, for conversation lists.
    pub last_message: Option<String>,
    /// When the newest message was sent; lists sort by it.
    pub last_message_at: Option<DateTime<Utc>>,
    /// When the conversation was created.
    pub created_at: DateTime<Utc>,
    /// When the conversation last changed.
    pub updated_at: DateTime<Utc>,
}

/// One user's place in a conversation, with their read watermark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member.
    pub user: UserRef,
    /// What they may do.
    pub role: Role,
    /// Every message at or below this `seq` counts as read by this member.
    pub last_read_seq: Seq,
    /// When the watermark last moved.
    pub last_read_at: Option<DateTime<Utc>>,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// A conversation together with its members, which is what every view of it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationDetail {
    /// The conversation itself.
    pub conversation: Conversation,
    /// Its members, ordered by user id.
    pub members: Vec<Member>,
}

impl ConversationDetail {
    /// The member record of `user`, if they belong here.
    pub fn member(&self, user: UserId) -> Option<&Member> {
        self.members.iter().find(|m| m.user.id == user)
    }

    /// The first member other than `user`: the counterpart in a direct conversation.
    pub fn counterpart(&self, user: UserId) -> Option<&Member> {
        self.members.iter().find(|m| m.user.id != user)
    }

    /// Whether every member other than the sender has read `message`, and since when: the
    /// seed's `is_read` / `read_at`, derived from the watermarks.
    pub fn read_state(&self, message: &Message) -> (bool, Option<DateTime<Utc>>) {
        let mut read_at: Option<DateTime<Utc>> = None;
        for member in self
            .members
            .iter()
            .filter(|m| m.user.id != message.sender_id)
        {
            if member.last_read_seq < message.seq {
                return (false, None);
            }
            read_at = read_at.max(member.last_read_at);
        }
        (true, read_at)
    }
}

/// A stored message that has not been deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// Where it was sent.
    pub conversation_id: ConversationId,
    /// Its gapless position in the conversation.
    pub seq: Seq,
    /// Who sent it.
    pub sender_id: UserId,
    /// The text.
    pub content: String,
    /// An optional http(s) link to an attachment.
    pub attachment_url: Option<String>,
    /// The sender's own id for the send, when they gave one.
    pub client_message_id: Option<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When its sender last edited it; `None` for a message never edited.
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    /// Its reactions as the reader sees them; filled by history reads (pages, search), empty
    /// in events (which carry reactions as their own events).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<crate::Reaction>,
    /// The message of the same conversation this one replies to, if any.
    #[serde(default)]
    pub reply_to_id: Option<MessageId>,
    /// That parent as replies show it; filled by reads and sends (the store's row has only
    /// `reply_to_id`), `None` when the message is no reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<crate::ReplyTo>,
    /// How many visible replies it has; filled by history reads, 0 in events.
    #[serde(default)]
    pub reply_count: i64,
    /// Where it was forwarded from, for a forwarded copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<crate::ForwardedFrom>,
    /// The members it mentions, in the order first mentioned (resolved when it was sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<UserId>,
}

/// One version of a message's text: what was sent, or what an edit wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageVersion {
    /// 1 for what was sent, then one more per edit.
    pub version: i32,
    /// The text of that version.
    pub content: String,
    /// When it was written (sent, or edited).
    pub written_at: DateTime<Utc>,
}

/// The outcome of marking a conversation read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadReceipt {
    /// The conversation that was read.
    pub conversation_id: ConversationId,
    /// Who read it.
    pub user_id: UserId,
    /// How many messages from others became read.
    pub updated: i64,
    /// The new watermark.
    pub last_read_seq: Seq,
    /// When the watermark moved.
    pub read_at: DateTime<Utc>,
}

/// How many unread messages from others one conversation holds for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadCount {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Unread messages in it (always at least 1 in lists).
    pub unread_count: i64,
}
