//! The seed's eight endpoints under `/api/chat`. Each handler parses, calls one service
//! method and maps the result.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chat_domain::{
    ConversationId, ConversationMessages, EventSink, Limits, MessageId, MessageWindow, Recipient,
    SearchQuery, SendMessage, Store, UserId,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::envelope::{Done, Envelope, created_unless, done, ok, with_message};
use crate::error::ErrorEnvelope;
use crate::input::{ListQuery, Object, positive, positive_json, required_string_json, string_json};
use crate::views::{
    ConversationPage, ConversationUnread, ConversationView, MarkedRead, MessagePage, MessageView,
    Pagination, UnreadTotal,
};
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The body of `POST /api/chat/send`: the receiver and the message. (Read loosely typed, so
/// that each bad field gets a 400 of its own.)
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = SendRequest)]
pub(crate) struct SendBody {
    /// The user to send to (a number, or a string of digits); not the caller.
    #[serde(rename = "receiverId")]
    #[schema(value_type = i64, minimum = 1, examples(2))]
    receiver_id: Option<Value>,
    /// The message.
    #[serde(flatten)]
    message: PostBody,
}

/// A message as every send endpoint takes it: `POST /api/chat/send` beside its `receiverId`,
/// and `POST /api/chat/conversations/{id}/messages` alone.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = PostMessageRequest)]
pub(crate) struct PostBody {
    /// The text, 1 to `CHAT_MAX_MESSAGE_CHARS` (5000) characters, not only whitespace.
    #[schema(value_type = String, examples("Hello!"))]
    content: Option<Value>,
    /// A link to an attachment (at most 2048 bytes).
    #[serde(rename = "attachmentUrl")]
    #[schema(value_type = Option<String>, nullable = false)]
    attachment_url: Option<Value>,
    /// An id the client picks (1 to 128 printable ASCII characters, no spaces) so that a
    /// retried send is recognised: the same send again is answered with the stored message
    /// (200), the id with another message is a 409.
    #[serde(rename = "clientMessageId")]
    #[schema(value_type = Option<String>, nullable = false)]
    client_message_id: Option<Value>,
    /// The id of a message of the same conversation that this one replies to (a
    /// number, or a string of digits); the answer and every read show it as `reply_to`.
    #[serde(rename = "replyToId")]
    #[schema(value_type = Option<i64>, nullable = false, minimum = 1, examples(41))]
    reply_to_id: Option<Value>,
    /// Send it later, at this RFC 3339 time (in the future, at most a year ahead): the answer
    /// is then the scheduled message (201, `message` "Message scheduled"), which only the
    /// caller sees until it is sent (`GET /api/chat/scheduled`).
    #[serde(rename = "sendAt")]
    #[schema(value_type = Option<String>, nullable = false, examples("2026-12-24T09:00:00Z"))]
    send_at: Option<Value>,
}

impl PostBody {
    /// When to send it, if later (`sendAt`).
    pub(crate) fn send_at(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
        crate::input::time_json("sendAt", self.send_at.as_ref())
    }

    /// The validated send of this message from `sender` to `to`.
    pub(crate) fn command(
        self,
        sender: UserId,
        to: Recipient,
        limits: &Limits,
    ) -> Result<SendMessage, ApiError> {
        Ok(SendMessage::parse_to(
            sender,
            to,
            required_string_json("content", self.content.as_ref())?,
            string_json("attachmentUrl", self.attachment_url.as_ref())?,
            string_json("clientMessageId", self.client_message_id.as_ref())?,
            limits,
        )?
        .replying_to(self.reply_to_id.as_ref())?)
    }
}

/// Send a message.
///
/// Stores a message from the caller to `receiverId`, creating their conversation on the first
/// message, and pushes it to Socket.IO clients (`new_message`, `message_notification`).
#[utoipa::path(
    post,
    path = "/api/chat/send",
    tag = "chat",
    request_body = SendBody,
    responses(
        (status = 201, description = "Stored; `message` is \"Message sent successfully\". With `sendAt`: scheduled, `message` \"Message scheduled\", `data` the scheduled message (`ScheduledMessage`).", body = Envelope<MessageView>),
        (status = 200, description = "A retry: the caller sent this `clientMessageId` before with the same content and attachment; the stored message, nothing written or delivered again.", body = Envelope<MessageView>),
        (status = 400, description = "Missing or empty `content`, missing or non-numeric `receiverId`, sending to oneself, content over the limit, a `replyToId` that is not a message of the conversation, malformed JSON.", body = ErrorEnvelope),
        (status = 404, description = "No user has the id `receiverId`.", body = ErrorEnvelope),
        (status = 409, description = "The caller already used this `clientMessageId` for a different message.", body = ErrorEnvelope),
        (status = 413, description = "The body is over `CHAT_MAX_BODY_BYTES` (64 KiB).", body = ErrorEnvelope),
        (status = 429, description = "The caller sends faster than the configured rate.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a send is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "send", skip_all, fields(user = %user.0))]
pub(crate) async fn send<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    body: web::Json<Object<SendBody>>,
) -> Result<HttpResponse, ApiError> {
    let Object(body) = body.into_inner();
    let receiver = UserId(positive_json("receiverId", body.receiver_id.as_ref())?);
    let send_at = body.message.send_at()?;
    let cmd = body
        .message
        .command(user.0, Recipient::User(receiver), state.chat.limits())?;
    sent(&state, cmd, send_at).await
}

/// Sends and answers as every send endpoint does: 201 with the stored message, or 200 with
/// it for a retry of a stored send (which changes nothing); with a `send_at`, schedules it.
pub(crate) async fn sent<S: Store, E: EventSink>(
    state: &State<S, E>,
    cmd: SendMessage,
    send_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<HttpResponse, ApiError> {
    if let Some(send_at) = send_at {
        return super::scheduled::scheduled(state, cmd, send_at).await;
    }
    let sent = state.chat.send_message(cmd).await?;
    let view = MessageView::new(&sent.conversation, &sent.message);
    let status = created_unless(sent.replayed);
    Ok(with_message(status, "Message sent successfully", view))
}

/// List the caller's conversations, newest activity first.
#[utoipa::path(
    get,
    path = "/api/chat/conversations",
    tag = "chat",
    params(("page" = Option<u32>, Query, description = "Page number, from 1 (default 1).", minimum = 1), ("limit" = Option<u32>, Query, description = "Page size (default 20); larger values are clamped to `CHAT_MAX_PAGE_SIZE` (100).", minimum = 1)),
    responses(
        (status = 200, description = "One page of conversations.", body = Envelope<ConversationPage>),
        (status = 400, description = "A bad parameter; `errors` names it.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "conversations", skip_all, fields(user = %user.0))]
pub(crate) async fn conversations<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.chat.limits();
    let page = query.page(limits.default_conversation_page, limits)?;
    let found = state.chat.conversations(user.0, page).await?;
    let list: Vec<ConversationView> = found.items.iter().map(ConversationView::from).collect();
    Ok(ok(ConversationPage {
        conversations: list,
        pagination: Pagination::of(&found, page.page, page.limit),
    }))
}

/// A conversation's messages, newest first.
///
/// Pages with `page`/`limit`, or, for deep history and catching up, with a `before` or
/// `after` cursor: the `seq` of a message. A cursor wins over `page`; the two cursors cannot
/// be combined.
#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}/messages",
    tag = "chat",
    params(
        ("id" = i64, Path, description = "The conversation id.", minimum = 1),
        ("page" = Option<u32>, Query, description = "Page number, from 1 (default 1).", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size (default 50); larger values are clamped to `CHAT_MAX_PAGE_SIZE` (100).", minimum = 1),
        ("before" = Option<i64>, Query, description = "Cursor: the `limit` newest messages with a `seq` below this one (paging back through history).", minimum = 1),
        ("after" = Option<i64>, Query, description = "Cursor: the `limit` oldest messages with a `seq` above this one (catching up), still listed newest first; `0` reads from the first message.", minimum = 0),
    ),
    responses(
        (status = 200, description = "One page of messages.", body = Envelope<MessagePage>),
        (status = 400, description = "A bad parameter; `errors` names it.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation, or the caller is not in it (the same answer, so that existence does not leak).", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "messages", skip_all, fields(user = %user.0))]
pub(crate) async fn messages<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let conversation = ConversationId(positive("id", &id)?);
    let window = query.window(state.chat.limits())?;
    let found = state.chat.messages(user.0, conversation, window).await?;
    Ok(ok(message_page(&found, window)))
}

/// A window of a message list as the lists answer it (a cursor window is page 1).
pub(crate) fn message_page(found: &ConversationMessages, window: MessageWindow) -> MessagePage {
    let page = match window {
        MessageWindow::Page(page) => page.page,
        MessageWindow::Before { .. } | MessageWindow::After { .. } => 1,
    };
    MessagePage {
        messages: MessageView::all(&found.conversation, &found.messages),
        pagination: Pagination::new(found.total, page, window.limit()),
    }
}

/// Mark every message the caller received in a conversation as read.
///
/// Socket.IO clients in the conversation get `messages_read`.
#[utoipa::path(
    put,
    path = "/api/chat/conversations/{id}/read",
    tag = "chat",
    params(("id" = i64, Path, description = "The conversation id.", minimum = 1)),
    responses(
        (status = 200, description = "Done; `message` is \"Messages marked as read\" and `updated` counts the messages that became read.", body = Envelope<MarkedRead>),
        (status = 400, description = "A bad parameter; `errors` names it.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation, or the caller is not in it (the same answer, so that existence does not leak).", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "mark_read", skip_all, fields(user = %user.0))]
pub(crate) async fn mark_read<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let conversation = ConversationId(positive("id", &id)?);
    let receipt = state.chat.mark_read(user.0, conversation).await?;
    Ok(with_message(
        StatusCode::OK,
        "Messages marked as read",
        MarkedRead {
            updated: receipt.updated,
        },
    ))
}

/// How many unread messages the caller has, over all conversations.
#[utoipa::path(
    get,
    path = "/api/chat/unread-count",
    tag = "chat",
    responses((status = 200, description = "The total.", body = Envelope<UnreadTotal>)),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "unread_count", skip_all, fields(user = %user.0))]
pub(crate) async fn unread_count<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let count = state.chat.unread_count(user.0).await?;
    Ok(ok(UnreadTotal {
        unread_count: count,
    }))
}

/// Unread messages per conversation (conversations with none are left out).
#[utoipa::path(
    get,
    path = "/api/chat/unread",
    tag = "chat",
    responses((status = 200, description = "One item per conversation with unread messages.", body = Envelope<Vec<ConversationUnread>>)),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "unread", skip_all, fields(user = %user.0))]
pub(crate) async fn unread<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let counts = state.chat.unread_by_conversation(user.0).await?;
    let list: Vec<ConversationUnread> = counts.iter().map(ConversationUnread::from).collect();
    Ok(ok(list))
}

/// Search a conversation's messages, newest first.
///
/// A case-insensitive substring match; `%` and `_` match themselves.
#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}/search",
    tag = "chat",
    params(
        ("id" = i64, Path, description = "The conversation id.", minimum = 1),
        ("q" = String, Query, description = "The text to find (1 to 200 characters)."),
        ("page" = Option<u32>, Query, description = "Page number, from 1 (default 1).", minimum = 1),
        ("limit" = Option<u32>, Query, description = "Page size (default 50); larger values are clamped to `CHAT_MAX_PAGE_SIZE` (100).", minimum = 1),
    ),
    responses(
        (status = 200, description = "One page of matching messages.", body = Envelope<MessagePage>),
        (status = 400, description = "`q` is missing or too long, or a bad page parameter.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation, or the caller is not in it (the same answer, so that existence does not leak).", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "search", skip_all, fields(user = %user.0))]
pub(crate) async fn search<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limits = state.chat.limits();
    let conversation = ConversationId(positive("id", &id)?);
    let raw = query
        .q
        .as_deref()
        .ok_or_else(|| ApiError::field("q", "q is required"))?;
    let term = SearchQuery::parse(raw, limits)?;
    let page = query.page(limits.default_message_page, limits)?;
    let found = state.chat.search(user.0, conversation, &term, page).await?;
    Ok(ok(MessagePage {
        messages: MessageView::all(&found.conversation, &found.messages),
        pagination: Pagination::new(found.total, page.page, page.limit),
    }))
}

/// Delete one of the caller's own messages (a soft delete: it is never returned again).
#[utoipa::path(
    delete,
    path = "/api/chat/messages/{id}",
    tag = "chat",
    params(("id" = i64, Path, description = "The message id.", minimum = 1)),
    responses(
        (status = 200, description = "Deleted; `message` is \"Message deleted successfully\".", body = Done),
        (status = 400, description = "The id is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such message, already deleted, or not sent by the caller.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "delete", skip_all, fields(user = %user.0))]
pub(crate) async fn delete<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let message = MessageId(positive("id", &id)?);
    state.chat.delete_message(user.0, message).await?;
    Ok(done("Message deleted successfully"))
}
