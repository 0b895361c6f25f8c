//! Editing a message and reading its earlier versions. Only its sender edits, within
//! `CHAT_EDIT_WINDOW_SECS`; every member reads its history.

use actix_web::{HttpResponse, web};
use chat_domain::wire::iso;
use chat_domain::{EventSink, MessageId, MessageVersion, Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::{Object, positive, required_string_json};
use crate::views::MessageView;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// The body of `PATCH /api/chat/messages/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EditMessageRequest)]
pub(crate) struct EditBody {
    /// The new text, as a send's `content` (1 to `CHAT_MAX_MESSAGE_CHARS` characters).
    #[schema(value_type = String, examples("Meet at 10, not 9"))]
    content: Option<Value>,
}

/// One version of a message's text.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VersionView {
    /// 1 for what was sent, then one more per edit.
    version: i32,
    /// The text of that version.
    content: String,
    /// When it was written (sent, or edited).
    #[serde(rename = "writtenAt", serialize_with = "iso")]
    written_at: DateTime<Utc>,
}

impl From<MessageVersion> for VersionView {
    fn from(version: MessageVersion) -> Self {
        VersionView {
            version: version.version,
            content: version.content,
            written_at: version.written_at,
        }
    }
}

/// Edit one of the caller's own messages.
///
/// The record comes back with `editedAt`; the conversation's room gets `message_edited`, and
/// a client that was away gets it when it recovers or syncs. The text it replaces is kept
/// (`GET /api/chat/messages/{id}/history`). The same text again changes nothing.
#[utoipa::path(
    patch,
    path = "/api/chat/messages/{id}",
    tag = "chat",
    params(("id" = i64, Path, description = "The message id.", minimum = 1)),
    request_body = EditBody,
    responses(
        (status = 200, description = "Edited (or already this text).", body = Envelope<MessageView>),
        (status = 400, description = "Missing or empty `content`, content over the limit, or an id that is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such message, deleted, or not sent by the caller.", body = ErrorEnvelope),
        (status = 409, description = "The edit window (`CHAT_EDIT_WINDOW_SECS`) of this message has passed.", body = ErrorEnvelope),
        (status = 429, description = "The caller writes faster than the send rate, which edits share.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a write is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "edit", skip_all, fields(user = %user.0))]
pub(crate) async fn edit<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Object<EditBody>>,
) -> Result<HttpResponse, ApiError> {
    let message = MessageId(positive("id", &id)?);
    let Object(body) = body.into_inner();
    let content = required_string_json("content", body.content.as_ref())?;
    let (conversation, edited) = state.chat.edit_message(user.0, message, content).await?;
    Ok(ok(MessageView::new(&conversation, &edited)))
}

/// Every version of a message, oldest first.
///
/// What was sent, then what each edit wrote; the last is its text now. For members of its
/// conversation only.
#[utoipa::path(
    get,
    path = "/api/chat/messages/{id}/history",
    tag = "chat",
    params(("id" = i64, Path, description = "The message id.", minimum = 1)),
    responses(
        (status = 200, description = "The versions, oldest first.", body = Envelope<Vec<VersionView>>),
        (status = 400, description = "The id is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such message, deleted, or outside the caller's conversations.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "history", skip_all, fields(user = %user.0))]
pub(crate) async fn history<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let message = MessageId(positive("id", &id)?);
    let versions = state.chat.message_history(user.0, message).await?;
    let views: Vec<VersionView> = versions.into_iter().map(VersionView::from).collect();
    Ok(ok(views))
}
