//! The HTTP surface of the chat server, on actix-web: handlers parse a request, call one
//! [`chat_domain::ChatService`] method and map the result to the wire format of `WIRE.md`
//! (the seed's paths, fields and envelope). Every route is listed once, in [`Endpoint`], and
//! described in the OpenAPI document ([`openapi::document`]) served at `/api-docs/openapi.json`
//! with a browsable reference at `/docs/`.

pub mod auth;
mod body_timeout;
mod browser;
pub mod client_address;
mod docs;
mod envelope;
mod error;
mod headers;
mod health;
mod input;
pub mod openapi;
mod prometheus;
pub mod request_id;
mod routes;
mod state;
mod views;

pub use auth::{AuthUser, Authenticator};
pub use body_timeout::BodyTimeout;
pub use browser::{BundleError, CLIENT_FILES, ClientBundle, WebSurface};
pub use client_address::{ClientAddress, TrustedProxies};
pub use docs::OPENAPI_PATH;
pub use error::ApiError;
pub use headers::response_headers;
pub use prometheus::{METRICS_PATH, MetricsEndpoint, MetricsToken};
pub use routes::dead_letters::{DeadLetter, DeadLetters};
pub use routes::table::Endpoint;
pub use state::{ApiSettings, AppState, BuiltinAccounts};

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::http::{Method, header};
use actix_web::web;
use chat_domain::{EventSink, Store};

/// Registers every route of the API ([`Endpoint::ALL`], nothing else) with its shared state;
/// the client bundle and the web app only when `state.web` has them.
pub fn configure<S: Store, E: EventSink>(
    cfg: &mut web::ServiceConfig,
    state: web::Data<AppState<S, E>>,
    authenticator: web::Data<Authenticator>,
) {
    let parts = routes::table::Parts {
        builtin_accounts: state.accounts.is_some(),
        client_bundle: state.web.client_bundle.is_some(),
        web_app: state.web.app,
    };
    if let Some(bundle) = &state.web.client_bundle {
        cfg.app_data(web::Data::from(Arc::clone(bundle)));
    }
    cfg.app_data(input::json_config(state.settings.max_body_bytes))
        .app_data(input::query_config())
        .app_data(state)
        .app_data(authenticator);
    routes::table::register::<S, E>(cfg, parts);
}

/// CORS as the seed's stack (the `cors` npm middleware, for Express and Socket.IO alike)
/// treats browsers: the frontend's origin, with credentials; a preflight gets back the
/// headers it asks for (`X-Requested-With`, `Cache-Control`, `X-Request-Id`, ...) and every
/// method the API and the polling transport use; `X-Request-Id` and `Retry-After` are readable
/// by the page. Without a configured origin, no cross-origin request is allowed. A page this
/// server serves itself (the web app) is same-origin: its `Origin` names the host it sends
/// to, and is always admitted.
pub fn cors(frontend_url: Option<&str>) -> Cors {
    let cors = Cors::default()
        .allowed_origin_fn(same_origin)
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_any_header()
        .expose_headers([
            header::HeaderName::from_static(request_id::REQUEST_ID_HEADER),
            header::RETRY_AFTER,
        ])
        .supports_credentials()
        .max_age(3600);
    match frontend_url {
        Some(origin) => cors.allowed_origin(origin),
        None => cors,
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to (its
/// `Host` header): the page making it came from this server. Browsers send `Origin` on
/// same-origin POSTs and WebSocket handshakes too, which CORS must not refuse.
fn same_origin(origin: &header::HeaderValue, request: &actix_web::dev::RequestHead) -> bool {
    let authority = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, authority)| authority);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}
