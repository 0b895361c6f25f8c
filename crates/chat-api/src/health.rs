//! Probes for orchestrators: `/healthz` says the process serves requests, `/readyz` that it
//! can reach its database (and its cluster's bus) too.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, Store};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::envelope::json_body;

/// `GET /healthz` and a ready `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProbeStatus {
    /// `ok` (healthz) or `ready` (readyz).
    #[schema(examples("ok"))]
    status: &'static str,
}

/// `GET /readyz` when the database or the cluster's bus cannot be reached.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NotReady {
    /// Always `false`.
    success: bool,
    /// Always `unavailable`.
    #[schema(examples("unavailable"))]
    status: &'static str,
    /// What is wrong, without internals.
    #[schema(examples("The database is unavailable"))]
    message: &'static str,
}

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
    json_body(StatusCode::OK, &ProbeStatus { status: "ok" })
}

/// Readiness: the process can reach its database, and its cluster's event bus (Redis) when it
/// has one.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database answers, and the cluster's bus is connected.", body = ProbeStatus,
            example = json!({ "status": "ready" })),
        (status = 503, description = "The database cannot be reached, or the cluster's bus (Redis) is disconnected.", body = NotReady),
    ),
)]
#[tracing::instrument(name = "readyz", skip(state))]
pub(crate) async fn readyz<S: Store, E: EventSink>(
    state: web::Data<AppState<S, E>>,
) -> HttpResponse {
    let message = match state.chat.ready().await {
        Err(error) => {
            tracing::warn!(error = %error, cause = ?std::error::Error::source(&error), "not ready");
            "The database is unavailable"
        }
        // The bus logs its own losses and returns, once each.
        Ok(()) if !state.chat.events_connected() => "The event bus is unavailable",
        Ok(()) => return json_body(StatusCode::OK, &ProbeStatus { status: "ready" }),
    };
    json_body(
        StatusCode::SERVICE_UNAVAILABLE,
        &NotReady {
            success: false,
            status: "unavailable",
            message,
        },
    )
}
