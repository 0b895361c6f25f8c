//! The conversation records (the seed's list record, and the detail of one conversation with
//! its members) and the payloads of the group events, shared by REST and Socket.IO.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{UserSummary, iso, iso_opt};
use crate::{
    ConversationChanged, ConversationDetail, ConversationKind, Member, MemberChanged, Role,
};

fn summary(member: Option<&Member>) -> Option<UserSummary> {
    member.map(|m| UserSummary::from(&m.user))
}

/// A conversation with its last message, with the field names of the service this server
/// replaces (`participant_1_id`, ... for the two members of a direct conversation, smaller id
/// first; null for a group). A direct conversation's record in lists is exactly the seed's;
/// a group's adds `kind`, `title`, `avatar_url` and `member_count` (and the detail of one
/// conversation always says its `kind`).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Conversation))]
pub struct ConversationView {
    /// The conversation id.
    id: i64,
    /// `direct` or `group`: present on groups, and on every conversation's detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    kind: Option<ConversationKind>,
    /// A group's title (groups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    title: Option<String>,
    /// A group's picture URL, or null (groups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar_url: Option<Option<String>>,
    /// How many members a group has (groups only), so that a list can show it without
    /// reading each group.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    member_count: Option<usize>,
    /// The member with the smaller id (direct conversations; null for a group).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    participant_1_id: Option<i64>,
    /// The member with the larger id (direct conversations; null for a group).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    participant_2_id: Option<i64>,
    /// The newest visible message's text, or null.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    last_message: Option<String>,
    /// When the newest visible message was sent, or null.
    #[serde(serialize_with = "iso_opt")]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = Option<String>))]
    last_message_at: Option<DateTime<Utc>>,
    /// When the conversation began.
    #[serde(rename = "createdAt", serialize_with = "iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(rename = "updatedAt", serialize_with = "iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    updated_at: DateTime<Utc>,
    /// `{ id, username }` of `participant_1_id`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    participant1: Option<UserSummary>,
    /// `{ id, username }` of `participant_2_id`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    participant2: Option<UserSummary>,
    /// The `seq` of the newest message: a client that has seen it is up to date.
    last_seq: i64,
}

impl From<&ConversationDetail> for ConversationView {
    fn from(detail: &ConversationDetail) -> Self {
        let c = &detail.conversation;
        let group = c.kind == ConversationKind::Group;
        let (first, second) = if group {
            (None, None)
        } else {
            (detail.members.first(), detail.members.get(1))
        };
        ConversationView {
            id: c.id.get(),
            kind: group.then_some(c.kind),
            title: c.title.clone().filter(|_| group),
            avatar_url: group.then(|| c.avatar_url.clone()),
            member_count: group.then_some(detail.members.len()),
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

/// One member of a conversation: `{ id, username, role, joinedAt, lastReadSeq }`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    /// The user id.
    id: i64,
    /// The user's handle.
    username: String,
    /// `owner`, `admin` or `member` (both members of a direct conversation are `member`).
    role: Role,
    /// When they joined.
    #[serde(rename = "joinedAt", serialize_with = "iso")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    joined_at: DateTime<Utc>,
    /// Their read watermark: every message up to this `seq` is read by them.
    #[serde(rename = "lastReadSeq")]
    last_read_seq: i64,
}

impl From<&Member> for MemberView {
    fn from(member: &Member) -> Self {
        MemberView {
            id: member.user.id.get(),
            username: member.user.username.clone(),
            role: member.role,
            joined_at: member.joined_at,
            last_read_seq: member.last_read_seq.get(),
        }
    }
}

/// One conversation with its members: the list record and `members`, plus the caller's
/// `unreadCount` where there is a caller (REST; events leave it out).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConversationDetail))]
pub struct ConversationDetailView {
    /// The conversation's list record.
    #[serde(flatten)]
    conversation: ConversationView,
    /// Its members, by id.
    members: Vec<MemberView>,
    /// Messages from others the caller has not read.
    #[serde(rename = "unreadCount", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    unread_count: Option<i64>,
}

impl ConversationDetailView {
    /// The record of `detail`, with the caller's unread count when there is a caller.
    pub fn new(detail: &ConversationDetail, unread_count: Option<i64>) -> Self {
        let mut conversation = ConversationView::from(detail);
        conversation.kind = Some(detail.conversation.kind);
        ConversationDetailView {
            conversation,
            members: detail.members.iter().map(MemberView::from).collect(),
            unread_count,
        }
    }
}

/// One member who has read a message: `{ userId, username, readAt }`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadBy {
    /// The member.
    #[serde(rename = "userId")]
    user_id: i64,
    /// Their handle.
    username: String,
    /// When their watermark last moved (at or after they read it), or null.
    #[serde(rename = "readAt", serialize_with = "iso_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    read_at: Option<DateTime<Utc>>,
}

impl From<&Member> for ReadBy {
    fn from(member: &Member) -> Self {
        ReadBy {
            user_id: member.user.id.get(),
            username: member.user.username.clone(),
            read_at: member.last_read_at,
        }
    }
}

/// `conversation_created` and `conversation_updated`: `{ conversationId, conversation, by }`,
/// the conversation as it is now with its members.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationNotice {
    /// The conversation.
    #[serde(rename = "conversationId")]
    conversation_id: i64,
    /// Its record with its members.
    conversation: ConversationDetailView,
    /// Who created or changed it.
    by: i64,
}

impl From<&ConversationChanged> for ConversationNotice {
    fn from(changed: &ConversationChanged) -> Self {
        ConversationNotice {
            conversation_id: changed.conversation.conversation.id.get(),
            conversation: ConversationDetailView::new(&changed.conversation, None),
            by: changed.by.get(),
        }
    }
}

/// `{ id, username, role }` of a member a membership event is about.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberRef {
    /// The user id.
    id: i64,
    /// The user's handle.
    username: String,
    /// Their role now (for a removal: the role they had).
    role: Role,
}

/// `member_added`, `member_removed` and `member_role_changed`:
/// `{ conversationId, member: { id, username, role }, by }`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipNotice {
    /// The group.
    #[serde(rename = "conversationId")]
    conversation_id: i64,
    /// The member the change is about.
    member: MemberRef,
    /// Who made the change (the member themselves when they left).
    by: i64,
}

impl From<&MemberChanged> for MembershipNotice {
    fn from(changed: &MemberChanged) -> Self {
        MembershipNotice {
            conversation_id: changed.conversation_id.get(),
            member: MemberRef {
                id: changed.member.id.get(),
                username: changed.member.username.clone(),
                role: changed.role,
            },
            by: changed.by.get(),
        }
    }
}
