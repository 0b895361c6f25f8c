//! Probes for orchestrators: `/healthz` says the process serves requests, `/readyz` that it
//! can reach its database too.

use actix_web::{HttpResponse, web};
use chat_domain::{EventSink, Store};
use serde_json::json;

use crate::AppState;

pub(crate) fn configure<S: Store, E: EventSink>(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz::<S, E>));
}

#[tracing::instrument(name = "healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[tracing::instrument(name = "readyz", skip(state))]
async fn readyz<S: Store, E: EventSink>(state: web::Data<AppState<S, E>>) -> HttpResponse {
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
