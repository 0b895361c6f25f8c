//! `GET /metrics`: the server's metrics in the Prometheus text exposition format, for a
//! Prometheus server to scrape (docs/operations.md lists every metric).
//!
//! With `CHAT_METRICS_TOKEN` set, a scrape must carry `Authorization: Bearer <token>`
//! (Prometheus' `authorization` scrape setting); the token is compared in constant time.

use std::sync::Arc;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::ApiError;
use crate::auth::{bearer_token, same_secret};

/// The path Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

/// The media type of the Prometheus text format, version 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The bearer token a scrape must show (`CHAT_METRICS_TOKEN`); its `Debug` output hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

/// What `/metrics` serves: a renderer of the current values, and the bearer token a scrape
/// must show, if any.
#[derive(Clone)]
pub struct MetricsEndpoint {
    render: Arc<dyn Fn() -> String + Send + Sync>,
    token: Option<MetricsToken>,
}

impl std::fmt::Debug for MetricsEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsEndpoint")
            .field("protected", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl MetricsEndpoint {
    /// Serves what `render` returns (the whole exposition, rendered on each scrape); with a
    /// `token`, only to scrapes that show it.
    pub fn new(
        render: impl Fn() -> String + Send + Sync + 'static,
        token: Option<MetricsToken>,
    ) -> Self {
        Self {
            render: Arc::new(render),
            token,
        }
    }

    /// Makes this the endpoint the route table's `GET /metrics` serves.
    pub fn configure(self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(web::Data::new(self));
    }

    /// Whether `request` shows the token (always, without one).
    fn admits(&self, request: &HttpRequest) -> bool {
        let Some(MetricsToken(token)) = &self.token else {
            return true;
        };
        bearer_token(request).is_some_and(|shown| same_secret(shown, token))
    }
}

/// Prometheus metrics.
///
/// The server's metrics in the Prometheus text format (docs/operations.md lists them). With
/// `CHAT_METRICS_TOKEN` set, the scrape must send it as a bearer token.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "metrics",
    responses(
        (status = 200, description = "The exposition, never cached.", content_type = "text/plain; version=0.0.4; charset=utf-8", body = String),
        (status = 401, description = "`CHAT_METRICS_TOKEN` is set and the request does not carry it.", body = crate::error::ErrorEnvelope),
    ),
    security((), ("metrics_token" = [])),
)]
#[tracing::instrument(name = "metrics", skip_all)]
pub(crate) async fn scrape(
    request: HttpRequest,
    endpoint: web::Data<MetricsEndpoint>,
) -> Result<HttpResponse, ApiError> {
    if !endpoint.admits(&request) {
        return Err(ApiError::Unauthorized("a valid metrics token is required"));
    }
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, TEXT_FORMAT))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body((endpoint.render)()))
}
