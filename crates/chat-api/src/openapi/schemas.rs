//! Schemas of the wire envelope and of the `data` blocks that handlers build with `json!`:
//! they exist for the OpenAPI document only and mirror the handlers field for field (the
//! records themselves are the real view types of [`crate::views`]).

// Never constructed: these types only describe JSON that handlers write with `json!`.
#![allow(dead_code)]

use utoipa::ToSchema;

use crate::views::{ConversationView, MessageView, Pagination, UserView};

/// The success envelope: `{ success: true, message?, data }`.
#[derive(ToSchema)]
pub(crate) struct Envelope<T> {
    /// Always `true`.
    #[schema(examples(true))]
    success: bool,
    /// A sentence for people; present on `send`, `read`, `register`.
    #[schema(nullable = false)]
    message: Option<String>,
    /// The answer, for programs.
    data: T,
}

/// The answer of an operation that returns no data: `{ success: true, message }`.
#[derive(ToSchema)]
pub(crate) struct Done {
    /// Always `true`.
    #[schema(examples(true))]
    success: bool,
    /// What happened, for people.
    #[schema(examples("Message deleted successfully"))]
    message: String,
}

/// The error envelope: `{ success: false, message, code, errors?, requestId? }`. 500 and 503
/// answers never carry internal details; their `requestId` (also sent as `X-Request-Id`)
/// points to the server's log.
#[derive(ToSchema)]
pub(crate) struct ErrorEnvelope {
    /// Always `false`.
    #[schema(examples(false))]
    success: bool,
    /// What went wrong, for people.
    #[schema(examples("content is required"))]
    message: String,
    /// A stable code for programs: `invalid_input`, `unauthenticated`, `not_found`,
    /// `conflict`, `payload_too_large`, `rate_limited`, `unavailable` or `internal`.
    #[schema(examples("invalid_input"))]
    code: String,
    /// The fields at fault, on a 400 that can name one.
    #[schema(nullable = false)]
    errors: Option<Vec<FieldError>>,
    /// The request's id, on 500 and 503 answers.
    #[schema(rename = "requestId", nullable = false)]
    request_id: Option<String>,
}

/// One bad field of a 400 answer.
#[derive(ToSchema)]
pub(crate) struct FieldError {
    /// The field, as the client named it (`receiverId`, `content`, `users[0].id`, ...).
    field: String,
    /// What is wrong with it.
    message: String,
}

/// `data` of `GET /api/chat/conversations`.
#[derive(ToSchema)]
pub(crate) struct ConversationPage {
    /// The caller's conversations, newest activity first.
    conversations: Vec<ConversationView>,
    /// Where this page sits in the whole list.
    pagination: Pagination,
}

/// `data` of the message lists (history and search).
#[derive(ToSchema)]
pub(crate) struct MessagePage {
    /// Messages, newest first.
    messages: Vec<MessageView>,
    /// Where this page sits in the whole list (`page` is 1 when a cursor was used).
    pagination: Pagination,
}

/// `data` of `GET /api/users`.
#[derive(ToSchema)]
pub(crate) struct UserPage {
    /// The users found.
    users: Vec<UserView>,
    /// Where this page sits in the whole list.
    pagination: Pagination,
}

/// `data` of `PUT /api/chat/conversations/{id}/read`.
#[derive(ToSchema)]
pub(crate) struct ReadReceipt {
    /// How many messages became read.
    #[schema(examples(2))]
    updated: i64,
}

/// `data` of `GET /api/chat/unread-count`.
#[derive(ToSchema)]
pub(crate) struct UnreadTotal {
    /// Unread messages over all the caller's conversations.
    #[schema(rename = "unreadCount", examples(3))]
    unread_count: i64,
}

/// One item of `GET /api/chat/unread`.
#[derive(ToSchema)]
pub(crate) struct ConversationUnread {
    /// The conversation.
    conversation_id: i64,
    /// Its unread messages (never 0: conversations without any are left out).
    unread_count: i64,
}

/// `data` of `POST /api/auth/login`.
#[derive(ToSchema)]
pub(crate) struct Session {
    /// A Bearer token (HS256, signed with `JWT_SECRET`) for the other endpoints.
    token: String,
    /// The account's profile.
    user: UserView,
}

/// `data` of `PUT /api/admin/users`.
#[derive(ToSchema)]
pub(crate) struct UpsertedUsers {
    /// The users as stored, in the order given.
    users: Vec<UserView>,
}

/// `GET /healthz` and a ready `GET /readyz`.
#[derive(ToSchema)]
pub(crate) struct ProbeStatus {
    /// `ok` (healthz) or `ready` (readyz).
    #[schema(examples("ok"))]
    status: String,
}

/// `GET /readyz` when the database cannot be reached.
#[derive(ToSchema)]
pub(crate) struct NotReady {
    /// Always `false`.
    success: bool,
    /// Always `unavailable`.
    #[schema(examples("unavailable"))]
    status: String,
    /// What is wrong, without internals.
    #[schema(examples("The database is unavailable"))]
    message: String,
}
