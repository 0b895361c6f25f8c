//! A deadline on every request body: actix-web bounds the time to read a request's head
//! (`client_request_timeout`) but not its body, so a client that announces `Content-Length:
//! 1000` and sends 10 bytes would hold a connection, a worker's attention and a buffer for as
//! long as it likes. Here the body stream fails once the deadline passes, and whatever the
//! handler answered is replaced by 408 in the JSON envelope, on a connection that is closed.

use std::cell::Cell;
use std::future::{Future, Ready, ready};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::EitherBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING, UPGRADE};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError};
use futures_util::Stream;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::ApiError;

/// The middleware factory: `App::new().wrap(BodyTimeout::new(Duration::from_secs(10)))`; the
/// deadline runs from the moment the request's head was read.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout {
    limit: Duration,
}

impl BodyTimeout {
    /// Bodies must arrive in full within `limit`.
    pub fn new(limit: Duration) -> Self {
        BodyTimeout { limit }
    }
}

impl<S, B> Transform<S, ServiceRequest> for BodyTimeout
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = BodyTimeoutMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(BodyTimeoutMiddleware {
            service,
            limit: self.limit,
        }))
    }
}

/// The middleware itself; see [`BodyTimeout`].
pub struct BodyTimeoutMiddleware<S> {
    service: S,
    limit: Duration,
}

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Whether the request has a body to time: a length or a chunked encoding, and no protocol
/// upgrade (a WebSocket's stream is the connection itself, with deadlines of its own).
fn has_body(request: &ServiceRequest) -> bool {
    let headers = request.headers();
    !headers.contains_key(UPGRADE)
        && (headers.contains_key(TRANSFER_ENCODING)
            || headers
                .get(CONTENT_LENGTH)
                .is_some_and(|length| length.as_bytes() != b"0"))
}

impl<S, B> Service<ServiceRequest> for BodyTimeoutMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        if !has_body(&request) {
            let inner = self.service.call(request);
            return Box::pin(async move { inner.await.map(ServiceResponse::map_into_left_body) });
        }
        let expired = Rc::new(Cell::new(false));
        let timed = TimedBody {
            inner: request.take_payload(),
            deadline: Box::pin(sleep_until(Instant::now() + self.limit)),
            expired: Rc::clone(&expired),
        };
        request.set_payload(Payload::from(
            Box::pin(timed) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
        ));
        let inner = self.service.call(request);
        Box::pin(async move {
            let answered = inner.await;
            if !expired.get() {
                return answered.map(ServiceResponse::map_into_left_body);
            }
            // The access log line of the request says 408; nothing more to log.
            match answered {
                Ok(response) => {
                    let (request, _) = response.into_parts();
                    let timeout = ApiError::BodyTimeout.error_response();
                    Ok(ServiceResponse::new(request, timeout).map_into_right_body())
                }
                Err(_) => Err(ApiError::BodyTimeout.into()),
            }
        })
    }
}

/// The request's body stream, failing with `TimedOut` once the deadline passes.
struct TimedBody {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for TimedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
