//! Scheduled messages: the caller's list, and editing or cancelling one before it is sent.
//! (Scheduling itself is a send with `sendAt`: `POST /api/chat/send` and
//! `POST /api/chat/conversations/{id}/messages`.)

use actix_web::{HttpResponse, web};
use chat_domain::wire::ScheduledView;
use chat_domain::{EventSink, MessageBody, ScheduledEdit, ScheduledId, SendMessage, Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::envelope::{Envelope, done, ok, with_message};
use crate::error::ErrorEnvelope;
use crate::input::{Object, positive, string_json, time_json};
use crate::{ApiError, AppState, AuthUser};

type State<S, E> = web::Data<AppState<S, E>>;

/// Schedules `send` for `send_at` and answers 201 with the scheduled message (also for a
/// retry with the same `clientMessageId`, which stores nothing new).
pub(crate) async fn scheduled<S: Store, E: EventSink>(
    state: &State<S, E>,
    send: SendMessage,
    send_at: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    let new = chat_domain::NewScheduled { send, send_at };
    let stored = state.chat.schedule_message(new, Utc::now()).await?;
    Ok(with_message(
        actix_web::http::StatusCode::CREATED,
        "Message scheduled",
        ScheduledView::new(&stored),
    ))
}

/// `data` of `GET /api/chat/scheduled`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScheduledList {
    /// The caller's scheduled messages, soonest first.
    scheduled: Vec<ScheduledView>,
}

/// The caller's scheduled messages.
///
/// Every message the caller scheduled and that was not sent yet, soonest first (at most
/// `CHAT_MAX_SCHEDULED_PER_USER`, so there is no paging), including those whose sending
/// failed (`status: "failed"`, with `failure`).
#[utoipa::path(
    get,
    path = "/api/chat/scheduled",
    tag = "chat",
    responses((status = 200, description = "The scheduled messages.", body = Envelope<ScheduledList>)),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "scheduled", skip_all, fields(user = %user.0))]
pub(crate) async fn list<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let scheduled = state.chat.scheduled(user.0).await?;
    Ok(ok(ScheduledList {
        scheduled: scheduled.iter().map(ScheduledView::new).collect(),
    }))
}

/// The body of `PATCH /api/chat/scheduled/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = EditScheduledRequest)]
pub(crate) struct EditBody {
    /// The new text (checked as a send's).
    #[schema(value_type = Option<String>, nullable = false, examples("See you at 10"))]
    content: Option<Value>,
    /// The new time (RFC 3339, in the future, at most a year ahead).
    #[serde(rename = "sendAt")]
    #[schema(value_type = Option<String>, nullable = false, examples("2026-12-24T09:00:00Z"))]
    send_at: Option<Value>,
}

/// Change a scheduled message.
///
/// Changes the text, the time or both of one of the caller's scheduled messages. A new time
/// gives a failed message another try.
#[utoipa::path(
    patch,
    path = "/api/chat/scheduled/{id}",
    tag = "chat",
    params(("id" = i64, Path, description = "The scheduled message's id.", minimum = 1)),
    request_body = EditBody,
    responses(
        (status = 200, description = "Changed; the scheduled message.", body = Envelope<ScheduledView>),
        (status = 400, description = "Neither `content` nor `sendAt`, or a bad one.", body = ErrorEnvelope),
        (status = 404, description = "The caller has no such scheduled message (or it was sent).", body = ErrorEnvelope),
        (status = 409, description = "It is being sent.", body = ErrorEnvelope),
        (status = 429, description = "The caller writes faster than the send rate, which edits share.", body = ErrorEnvelope,
            headers(("Retry-After" = u64, description = "Seconds until a write is allowed again."))),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "edit_scheduled", skip_all, fields(user = %user.0))]
pub(crate) async fn edit<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
    body: web::Json<Object<EditBody>>,
) -> Result<HttpResponse, ApiError> {
    let id = ScheduledId(positive("id", &id)?);
    let Object(body) = body.into_inner();
    let content = string_json("content", body.content.as_ref())?
        .map(|raw| MessageBody::parse(raw, state.chat.limits()))
        .transpose()?;
    let send_at = time_json("sendAt", body.send_at.as_ref())?;
    if content.is_none() && send_at.is_none() {
        return Err(ApiError::field("content", "give content, sendAt or both"));
    }
    let edit = ScheduledEdit { content, send_at };
    let changed = state
        .chat
        .edit_scheduled(user.0, id, edit, Utc::now())
        .await?;
    Ok(ok(ScheduledView::new(&changed)))
}

/// Cancel a scheduled message.
#[utoipa::path(
    delete,
    path = "/api/chat/scheduled/{id}",
    tag = "chat",
    params(("id" = i64, Path, description = "The scheduled message's id.", minimum = 1)),
    responses(
        (status = 200, description = "Cancelled; it will not be sent.", body = crate::envelope::Done),
        (status = 404, description = "The caller has no such scheduled message (or it was sent).", body = ErrorEnvelope),
        (status = 409, description = "It is being sent.", body = ErrorEnvelope),
    ),
    security(("bearer_jwt" = [])),
)]
#[tracing::instrument(name = "cancel_scheduled", skip_all, fields(user = %user.0))]
pub(crate) async fn cancel<S: Store, E: EventSink>(
    state: State<S, E>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ScheduledId(positive("id", &id)?);
    state.chat.cancel_scheduled(user.0, id, Utc::now()).await?;
    Ok(done("Scheduled message cancelled"))
}
