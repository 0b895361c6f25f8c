//! A request id on every response (`X-Request-Id`), in every log line of the request (which
//! ends with one access line: method, path, status, time; at `debug` for a success, at `info`
//! with the client's address, rate-limited, for a refusal), and in the body of every 500 and
//! 503, so that a user's report leads straight to the log.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use std::time::Instant;

use actix_web::http::header::{HeaderName, HeaderValue};
use chat_domain::NoticeBudget;
use tracing::Instrument;

/// The response header carrying the id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being handled, if called while handling one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Accepts a caller's id when it is short and plain, so ids can follow a request across
/// services; otherwise makes a new one.
fn choose(incoming: Option<&HeaderValue>) -> String {
    incoming
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The middleware factory: `App::new().wrap(RequestId)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestId;

impl<S, B> Transform<S, ServiceRequest> for RequestId
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestIdMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestIdMiddleware { service }))
    }
}

/// The middleware itself; see [`RequestId`].
pub struct RequestIdMiddleware<S> {
    service: S,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for RequestIdMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let id = choose(request.headers().get(REQUEST_ID_HEADER));
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %request.method(),
            path = %request.path(),
        );
        let started = Instant::now();
        let inner = span.in_scope(|| self.service.call(request));
        Box::pin(CURRENT.scope(id.clone(), async move {
            let mut response = inner.instrument(span.clone()).await?;
            let elapsed_ms = started.elapsed().as_secs_f64() * 1e3;
            span.in_scope(|| access_line(&response, elapsed_ms));
            if let Ok(value) = HeaderValue::from_str(&id) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
            }
            Ok(response)
        }))
    }
}

/// The budget of the access lines of refused requests: a flood of them (wrong passwords,
/// stalled bodies, rate-limited clients) is cut to a few lines a second per status.
static REFUSALS: LazyLock<NoticeBudget> = LazyLock::new(NoticeBudget::default);

/// The request's access line: at `debug` when it succeeded, at `info` with the client's address
/// when it was refused (4xx, 5xx), within the [`REFUSALS`] budget, whose `suppressed` says how
/// many lines were held back before this one.
fn access_line<B>(response: &ServiceResponse<B>, elapsed_ms: f64) {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        tracing::debug!(status = status.as_u16(), elapsed_ms, "request done");
        return;
    }
    let kind = status.canonical_reason().unwrap_or("other status");
    if let Some(suppressed) = REFUSALS.admit(kind) {
        let peer = response.request().peer_addr().map(|peer| peer.ip());
        tracing::info!(
            status = status.as_u16(),
            elapsed_ms,
            peer = ?peer,
            suppressed,
            "request refused"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_incoming_ids_are_kept_and_others_replaced() {
        let keep = HeaderValue::from_static("abc-123_X");
        assert_eq!(choose(Some(&keep)), "abc-123_X");
        let odd = HeaderValue::from_static("a b");
        assert_ne!(choose(Some(&odd)), "a b");
        assert_eq!(choose(None).len(), 36);
    }
}
