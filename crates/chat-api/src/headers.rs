//! Headers every answer carries, set in one place so that no route can forget them:
//! `X-Content-Type-Options: nosniff` everywhere (a browser never guesses a type, so a JSON
//! answer can never run as a script or page); `Cache-Control: no-store` on the API's answers
//! (they hold tokens and private messages, which no shared or browser cache should keep); and
//! a Content-Security-Policy on the documentation pages that lets Swagger UI load its own
//! scripts, styles and the document from this server, and nothing else, in no frame; and a
//! stricter one on the web app (`/` and `/app/...`): its own scripts and stylesheet, requests
//! and WebSockets to this server, no inline script or style, no frame.

use actix_cors::CorsError;
use actix_web::ResponseError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderMap, HeaderName, HeaderValue,
    X_CONTENT_TYPE_OPTIONS,
};
use actix_web::middleware::Next;

use crate::ApiError;

/// The policy of `/docs`: Swagger UI's bundle, stylesheet and inline style attributes, its
/// `data:` icons, and requests to this server only.
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
    form-action 'self'; frame-ancestors 'none'";

/// The policy of the web app: scripts, styles and connections (HTTP and WebSocket, which
/// `'self'` covers) to this server only; nothing inline.
const APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Which headers the answer to a path gets, besides `nosniff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `/api/...`: authenticated or credential-bearing answers, never stored.
    Api,
    /// `/docs...`: the documentation page, under its policy.
    Docs,
    /// `/` and `/app/...`: the web app, under its policy.
    App,
    /// Everything else (probes, the OpenAPI document, Socket.IO).
    Other,
}

fn kind(path: &str) -> Kind {
    if path == "/api" || path.starts_with("/api/") {
        Kind::Api
    } else if path == "/docs" || path.starts_with("/docs/") {
        Kind::Docs
    } else if path == "/" || path.starts_with("/app/") {
        Kind::App
    } else {
        Kind::Other
    }
}

/// Sets `name` unless the handler chose a value itself.
fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// The middleware: `App::new().wrap(from_fn(response_headers))`.
///
/// # Errors
/// Whatever the services inside it fail with, unchanged.
pub async fn response_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let kind = kind(request.path());
    let mut response = envelope_cors_refusal(next.call(request).await?);
    let headers = response.headers_mut();
    set_default(headers, X_CONTENT_TYPE_OPTIONS, "nosniff");
    match kind {
        Kind::Api => set_default(headers, CACHE_CONTROL, "no-store"),
        Kind::Docs => set_default(headers, CONTENT_SECURITY_POLICY, DOCS_POLICY),
        Kind::App => set_default(headers, CONTENT_SECURITY_POLICY, APP_POLICY),
        Kind::Other => {}
    }
    Ok(response)
}

/// A refusal by the CORS middleware (an origin, method or header it does not allow), which
/// answers in plain text, in the JSON envelope instead (400 `invalid_input`); any other answer
/// as it is.
fn envelope_cors_refusal<B>(response: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    let Some(refusal) = response
        .response()
        .error()
        .and_then(|error| error.as_error::<CorsError>())
        .map(ToString::to_string)
    else {
        return response.map_into_left_body();
    };
    let (request, _) = response.into_parts();
    let answer = ApiError::BadRequest {
        field: None,
        message: refusal,
    }
    .error_response();
    ServiceResponse::new(request, answer).map_into_right_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_apart_by_their_first_segment() {
        assert_eq!(kind("/api/chat/send"), Kind::Api);
        assert_eq!(kind("/api"), Kind::Api);
        assert_eq!(kind("/apix"), Kind::Other);
        assert_eq!(kind("/docs/"), Kind::Docs);
        assert_eq!(kind("/docs"), Kind::Docs);
        assert_eq!(kind("/api-docs/openapi.json"), Kind::Other);
        assert_eq!(kind("/socket.io/"), Kind::Other);
        assert_eq!(kind("/socket.io/socket.io.js"), Kind::Other);
        assert_eq!(kind("/"), Kind::App);
        assert_eq!(kind("/app/app.js"), Kind::App);
        assert_eq!(kind("/apps"), Kind::Other);
    }
}
