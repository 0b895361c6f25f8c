//! Probes for orchestrators: `/healthz` says the process serves requests, `/readyz` that it
//! can reach its database too.

use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, Store};
use serde_json::json;

use crate::AppState;
use crate::openapi::{NotReady, ProbeStatus};

/// Liveness: the process serves requests.
///
/// Answers `{ "status": "ok" }` without touching the database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "The process is up.", body = ProbeStatus,
        example = json!({ "status": "ok" }))),
)]
#[tracing::instrument(name = "healthz")]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: the process can reach its database.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database answers.", body = ProbeStatus,
            example = json!({ "status": "ready" })),
        (status = 503, description = "The database cannot be reached.", body = NotReady),
    ),
)]
#[tracing::instrument(name = "readyz", skip(state))]
pub(crate) async fn readyz<S: Store, E: EventSink>(
    state: web::Data<AppState<S, E>>,
) -> HttpResponse {
    match state.chat.ready().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(error) => {
            tracing::warn!(error = %error, cause = ?std::error::Error::source(&error), "not ready");
            HttpResponse::ServiceUnavailable().json(json!({
                "success": false,
                "status": "unavailable",
                "message": "The database is unavailable",
            }))
        }
    }
}
