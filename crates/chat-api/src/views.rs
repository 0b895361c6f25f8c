//! The JSON records of the REST answers, with the seed's field names (`sender_id`,
//! `createdAt`, ...), built from domain entities: what the handlers answer and what the
//! OpenAPI document describes are the same types. (Records Socket.IO shows too live in
//! [`chat_domain::wire`].)

pub(crate) use chat_domain::wire::events::MarkedRead;
use chat_domain::wire::iso;
pub(crate) use chat_domain::wire::{
    ConversationDetailView, ConversationView, MessageView, ReadBy, UserSummary,
};
use chat_domain::{Paged, UnreadCount, User};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A user's public profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = User)]
pub(crate) struct UserView {
    /// The user id (the host application's, or a new one for a built-in account).
    id: i64,
    /// The handle.
    username: String,
    /// A name to show, or null.
    #[serde(rename = "displayName")]
    #[schema(required = true)]
    display_name: Option<String>,
    /// A picture URL, or null.
    #[serde(rename = "avatarUrl")]
    #[schema(required = true)]
    avatar_url: Option<String>,
    /// When the chat server first saw the user.
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

/// The pagination block of every list. `total` comes from counters, never from counting
/// history.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, ToSchema)]
pub(crate) struct Pagination {
    /// Items in the whole list.
    #[schema(examples(27))]
    total: i64,
    /// This page's number, from 1 (1 when a `before`/`after` cursor was used).
    #[schema(examples(1))]
    page: u32,
    /// The page size used (after clamping).
    #[schema(examples(20))]
    limit: u32,
    /// Pages in the whole list at this size.
    #[serde(rename = "totalPages")]
    #[schema(examples(2))]
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

/// `data` of `GET /api/chat/conversations`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversationPage {
    /// The caller's conversations, newest activity first.
    pub(crate) conversations: Vec<ConversationView>,
    /// Where this page sits in the whole list.
    pub(crate) pagination: Pagination,
}

/// `data` of the message lists (history and search).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MessagePage {
    /// Messages, newest first.
    pub(crate) messages: Vec<MessageView>,
    /// Where this page sits in the whole list (`page` is 1 when a cursor was used).
    pub(crate) pagination: Pagination,
}

/// `data` of `GET /api/users`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserPage {
    /// The users found.
    pub(crate) users: Vec<UserView>,
    /// Where this page sits in the whole list.
    pub(crate) pagination: Pagination,
}

/// `data` of `GET /api/chat/unread-count`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnreadTotal {
    /// Unread messages over all the caller's conversations.
    #[serde(rename = "unreadCount")]
    #[schema(examples(3))]
    pub(crate) unread_count: i64,
}

/// One item of `GET /api/chat/unread`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConversationUnread {
    /// The conversation.
    conversation_id: i64,
    /// Its unread messages (never 0: conversations without any are left out).
    unread_count: i64,
}

impl From<&UnreadCount> for ConversationUnread {
    fn from(unread: &UnreadCount) -> Self {
        ConversationUnread {
            conversation_id: unread.conversation_id.get(),
            unread_count: unread.unread_count,
        }
    }
}

/// `data` of `POST /api/auth/login`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Session {
    /// A Bearer token (HS256, signed with `JWT_SECRET`) for the other endpoints.
    pub(crate) token: String,
    /// The account's profile.
    pub(crate) user: UserView,
}

/// `data` of `PUT /api/admin/users`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UpsertedUsers {
    /// The users as stored, in the order given.
    pub(crate) users: Vec<UserView>,
}

/// `data` of `GET /api/chat/conversations/{id}/messages/{messageId}/reads`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MessageReads {
    /// The members other than the sender who have read the message, by user id.
    pub(crate) reads: Vec<ReadBy>,
}
