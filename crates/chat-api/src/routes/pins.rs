//! Pinned messages: pin, unpin, list. Any member pins in a direct conversation, an admin or
//! the owner in a group; every member reads the list.

use actix_web::{HttpResponse, web};
use chat_domain::wire::iso;
use chat_domain::{ConversationDetail, EventSink, MessageId, Pin, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::groups::conversation_of;
use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::input::positive;
use crate::views::MessageView;
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// A pinned message.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PinView {
    /// The message as it is now.
    message: MessageView,
    /// Who pinned it.
    #[serde(rename = "pinnedBy")]
    pinned_by: i64,
    /// When.
    #[serde(rename = "pinnedAt", serialize_with = "iso")]
    pinned_at: DateTime<Utc>,
}

fn views(conversation: &ConversationDetail, pins: &[Pin]) -> Vec<PinView> {
    pins.iter()
        .map(|pin| PinView {
            message: MessageView::new(conversation, &pin.message),
            pinned_by: pin.pinned_by.get(),
            pinned_at: pin.pinned_at,
        })
        .collect()
}

/// The conversation's pins, after a change by the caller.
async fn pinned<S: Store, E: EventSink>(
    state: &State<S, E>,
    user: &AuthUser,
    path: &(String, String),
    pinned: bool,
) -> Result<HttpResponse, ApiError> {
    let conversation = conversation_of(&path.0)?;
    let message = MessageId(positive("messageId", &path.1)?);
    state
        .chat
        .set_pin(user.0, conversation, message, pinned)
        .await?;
    let (detail, pins) = state.chat.pins(user.0, conversation).await?;
    Ok(ok(views(&detail, &pins)))
}

/// Pin a message.
///
/// The conversation's room gets `message_pinned`; pinning a pinned message changes nothing.
/// Answers the conversation's pins, the latest first.
#[utoipa::path(
    put,
    path = "/api/chat/conversations/{id}/pins/{messageId}",
    tag = "chat",
    params(
        ("id" = i64, Path, description = "The conversation id.", minimum = 1),
        ("messageId" = i64, Path, description = "The message id.", minimum = 1),
    ),
    responses(
        (status = 200, description = "Pinned (or already pinned): the conversation's pins.", body = Envelope<Vec<PinView>>),
        (status = 400, description = "An id that is not a positive integer.", body = ErrorEnvelope),
        (status = 403, description = "A plain member of a group: only an admin or the owner pins there.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation or message, or the caller is not in it.", body = ErrorEnvelope),
        (status = 409, description = "The conversation holds `CHAT_MAX_PINS` pins already.", body = ErrorEnvelope),
        (status = 429, description = "The caller writes faster than the send rate, which pins share.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a write is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "pin", skip_all, fields(user = %user.0))]
pub(crate) async fn pin<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    pinned(&state, &user, &path, true).await
}

/// Unpin a message.
///
/// The conversation's room gets `message_unpinned`; unpinning a message that is not pinned
/// changes nothing. Answers the conversation's pins, the latest first.
#[utoipa::path(
    delete,
    path = "/api/chat/conversations/{id}/pins/{messageId}",
    tag = "chat",
    params(
        ("id" = i64, Path, description = "The conversation id.", minimum = 1),
        ("messageId" = i64, Path, description = "The message id.", minimum = 1),
    ),
    responses(
        (status = 200, description = "Unpinned (or was not pinned): the conversation's pins.", body = Envelope<Vec<PinView>>),
        (status = 400, description = "An id that is not a positive integer.", body = ErrorEnvelope),
        (status = 403, description = "A plain member of a group.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation or message, or the caller is not in it.", body = ErrorEnvelope),
        (status = 429, description = "The caller writes faster than the send rate, which pins share.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a write is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "unpin", skip_all, fields(user = %user.0))]
pub(crate) async fn unpin<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    pinned(&state, &user, &path, false).await
}

/// A conversation's pinned messages, the latest pin first.
#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}/pins",
    tag = "chat",
    params(("id" = i64, Path, description = "The conversation id.", minimum = 1)),
    responses(
        (status = 200, description = "The pins.", body = Envelope<Vec<PinView>>),
        (status = 400, description = "The id is not a positive integer.", body = ErrorEnvelope),
        (status = 404, description = "No such conversation, or the caller is not in it.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "pins", skip_all, fields(user = %user.0))]
pub(crate) async fn list<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (detail, pins) = state.chat.pins(user.0, conversation_of(&id)?).await?;
    Ok(ok(views(&detail, &pins)))
}
