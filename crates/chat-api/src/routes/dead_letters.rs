//! The webhook dead letters, under the admin API (`CHAT_ADMIN_TOKEN`): events the server gave
//! up delivering to `CHAT_WEBHOOK_URL` after its last attempt, listed with the body it sent
//! and the last error, and put back in the queue one by one once the receiver is fixed.

use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{ChatError, EventSink, Store};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::admin::require_admin;
use crate::envelope::{Envelope, ok};
use crate::error::ErrorEnvelope;
use crate::{ApiError, AppState};

type State<S, E> = web::Data<AppState<S, E>>;

/// Dead letters listed when `limit` is absent, and at most.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

/// Where the dead letters are kept (the server's webhook outbox); registered as app data of
/// type `web::Data<dyn DeadLetters>`.
pub trait DeadLetters: Send + Sync + 'static {
    /// Dead letters with an id below `before` (all when `None`), newest first, at most `limit`.
    fn list(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> BoxFuture<'_, Result<Vec<DeadLetter>, ChatError>>;
    /// Puts dead letter `id` back in the queue, due now; false when there is none with that id.
    fn requeue(&self, id: i64) -> BoxFuture<'_, Result<bool, ChatError>>;
}

/// An event the server gave up delivering.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeadLetter {
    /// The event's id (its `X-Chat-Webhook-Id`).
    pub id: i64,
    /// The message it is about.
    #[serde(rename = "messageId")]
    pub message_id: i64,
    /// Attempts made.
    pub attempts: i32,
    /// What the last attempt got (`HTTP 503`, `timed out`, `could not connect`, ...).
    #[serde(rename = "lastError")]
    pub last_error: Option<String>,
    /// When the message was stored.
    #[serde(rename = "createdAt")]
    pub created_at: DateTime<Utc>,
    /// When the event was given up.
    #[serde(rename = "deadAt")]
    pub dead_at: DateTime<Utc>,
    /// The body that was sent (absent when none could be built).
    #[schema(value_type = Option<Object>)]
    pub payload: Option<serde_json::Value>,
}

/// `GET /api/admin/webhooks/dead`: one page of dead letters.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeadLetterPage {
    /// Newest first.
    events: Vec<DeadLetter>,
    /// Pass as `before` for the next page; `null` on the last.
    #[serde(rename = "nextBefore")]
    next_before: Option<i64>,
}

/// `POST /api/admin/webhooks/dead/{id}/retry`: the event put back.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Requeued {
    /// The event's id.
    id: i64,
    /// Always `true`.
    requeued: bool,
}

/// The page asked for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Only events with an id below this one (the previous page's `nextBefore`).
    before: Option<i64>,
    /// 1 to 100 (default 50).
    limit: Option<i64>,
}

/// List dead-lettered webhook events (server to server).
///
/// Newest first, paged by `before`. Authenticated by `CHAT_ADMIN_TOKEN`.
#[utoipa::path(
    get,
    path = "/api/admin/webhooks/dead",
    tag = "admin",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of dead letters.", body = Envelope<DeadLetterPage>),
        (status = 400, description = "`limit` outside 1 to 100 or `before` not positive.", body = ErrorEnvelope),
    ),
    security(("admin_token" = [])),
)]
#[tracing::instrument(name = "admin_dead_webhooks", skip_all)]
pub(crate) async fn list<S: Store, E: EventSink>(
    state: State<S, E>,
    request: HttpRequest,
    letters: web::Data<dyn DeadLetters>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state.settings, &request)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    if query.before.is_some_and(|before| before <= 0) {
        return Err(ApiError::field(
            "before",
            "before must be a positive integer",
        ));
    }
    let events = letters.list(query.before, limit).await?;
    let full = i64::try_from(events.len()).is_ok_and(|n| n == limit);
    let next_before = full.then(|| events.last().map(|e| e.id)).flatten();
    Ok(ok(DeadLetterPage {
        events,
        next_before,
    }))
}

/// Put a dead-lettered webhook event back in the queue (server to server).
///
/// It is due at once, with its attempts counted afresh and the same id and body.
/// Authenticated by `CHAT_ADMIN_TOKEN`.
#[utoipa::path(
    post,
    path = "/api/admin/webhooks/dead/{id}/retry",
    tag = "admin",
    params(("id" = i64, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The event is queued again.", body = Envelope<Requeued>),
        (status = 404, description = "No dead letter has this id.", body = ErrorEnvelope),
    ),
    security(("admin_token" = [])),
)]
#[tracing::instrument(name = "admin_retry_webhook", skip_all)]
pub(crate) async fn retry<S: Store, E: EventSink>(
    state: State<S, E>,
    request: HttpRequest,
    letters: web::Data<dyn DeadLetters>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&state.settings, &request)?;
    let id = id.into_inner();
    if letters.requeue(id).await? {
        Ok(ok(Requeued { id, requeued: true }))
    } else {
        Err(ApiError::NotFound(
            "No dead-lettered webhook event has this id",
        ))
    }
}
