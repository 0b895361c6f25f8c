//! The one place where failures become HTTP answers, in the wire envelope
//! `{ success: false, message, code, errors? }`. Causes go to the log with the request id,
//! never into the body.

use std::fmt;
use std::time::Duration;

use actix_web::http::header::{ALLOW, HeaderValue, RETRY_AFTER};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use chat_domain::ChatError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

/// The error envelope: `{ success: false, message, code, errors?, requestId? }`. 500 and 503
/// answers never carry internal details; their `requestId` (also sent as `X-Request-Id`)
/// points to the server's log.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorEnvelope {
    /// Always `false`.
    #[schema(examples(false))]
    success: bool,
    /// What went wrong, for people.
    #[schema(examples("content is required"))]
    message: String,
    /// A stable code for programs: `invalid_input`, `unauthenticated`, `not_found`,
    /// `conflict`, `payload_too_large`, `rate_limited`, `unavailable` or `internal`.
    #[schema(examples("invalid_input"))]
    code: &'static str,
    /// The fields at fault, on a 400 that can name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    errors: Option<Vec<FieldError>>,
    /// The request's id, on 500 and 503 answers.
    // Present on exactly those answers; `null` there in the rare case of no request id.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, nullable = false)]
    request_id: Option<Option<String>>,
}

/// One bad field of a 400 answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldError {
    /// The field, as the client named it (`receiverId`, `content`, `users[0].id`, ...).
    field: String,
    /// What is wrong with it.
    message: String,
}

impl FieldError {
    fn one(field: &str, message: &str) -> Option<Vec<FieldError>> {
        Some(vec![FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        }])
    }
}

/// Everything a handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// A domain outcome (not found, invalid, conflict, rate limited, unavailable, ...).
    Domain(ChatError),
    /// No usable credentials: a missing, malformed, expired or wrongly signed token.
    Unauthorized(&'static str),
    /// A request the HTTP layer cannot read: bad JSON, wrong content type, bad parameter.
    BadRequest {
        /// The field at fault, when there is one.
        field: Option<String>,
        /// What is wrong, for a person.
        message: String,
    },
    /// A body over the configured limit.
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Too many login or registration attempts from one address or on one account (429
    /// with `Retry-After`); said in words that fit credentials rather than messages.
    TooManyAttempts {
        /// How long until the next attempt is allowed.
        retry_after: Duration,
    },
    /// The request body did not arrive in full within the configured time (408).
    BodyTimeout,
    /// No route has this path (404).
    NoSuchPath,
    /// An operator's record that does not exist (404), said in words: the domain's
    /// not-found is about users, conversations and messages.
    NotFound(&'static str),
    /// The path exists with other methods only (405, with `Allow`).
    MethodNotAllowed {
        /// The methods the path has, for the `Allow` header.
        allowed: Vec<Method>,
    },
}

impl ApiError {
    /// The answer to a login or registration that the domain refused: rate limits become
    /// [`ApiError::TooManyAttempts`], the rest stays as it is.
    pub(crate) fn from_attempt(error: ChatError) -> Self {
        match error {
            ChatError::RateLimited { retry_after } => ApiError::TooManyAttempts { retry_after },
            other => ApiError::Domain(other),
        }
    }

    /// How long the client should wait before retrying, when the answer says so.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Domain(
                ChatError::RateLimited { retry_after } | ChatError::Busy { retry_after },
            )
            | ApiError::TooManyAttempts { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

impl ApiError {
    /// A 400 naming the field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        ApiError::Domain(error)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Domain(e) => e.fmt(f),
            ApiError::Unauthorized(why) => write!(f, "unauthorized: {why}"),
            ApiError::BadRequest { message, .. } => f.write_str(message),
            ApiError::PayloadTooLarge { limit } => write!(f, "body over {limit} bytes"),
            ApiError::TooManyAttempts { retry_after } => {
                write!(
                    f,
                    "too many attempts; retry in {} ms",
                    retry_after.as_millis()
                )
            }
            ApiError::BodyTimeout => f.write_str("request body timed out"),
            ApiError::NoSuchPath => f.write_str("no such path"),
            ApiError::NotFound(what) => write!(f, "not found: {what}"),
            ApiError::MethodNotAllowed { .. } => f.write_str("method not allowed"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Domain(e) => match e {
                ChatError::NotFound { .. } | ChatError::UnknownUsers { .. } => {
                    StatusCode::NOT_FOUND
                }
                ChatError::Forbidden(_) => StatusCode::FORBIDDEN,
                ChatError::Invalid { .. } => StatusCode::BAD_REQUEST,
                ChatError::Conflict(_) => StatusCode::CONFLICT,
                ChatError::Unauthenticated => StatusCode::UNAUTHORIZED,
                ChatError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                ChatError::Unavailable(_) | ChatError::Busy { .. } => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::NoSuchPath | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let request_id = request_id::current();
        let (code, message, errors) = match self {
            ApiError::Domain(e @ ChatError::Invalid { field, reason }) => {
                (e.code(), e.client_message(), FieldError::one(field, reason))
            }
            ApiError::Domain(e @ ChatError::UnknownUsers { field, .. }) => (
                e.code(),
                e.client_message(),
                FieldError::one(field, &e.client_message()),
            ),
            ApiError::Domain(e @ (ChatError::Unavailable(_) | ChatError::Internal(_))) => {
                let cause = std::error::Error::source(e).map(ToString::to_string);
                tracing::error!(request_id = request_id.as_deref(), error = %e, cause, "request failed");
                (e.code(), e.client_message(), None)
            }
            ApiError::Domain(e) => (e.code(), e.client_message(), None),
            ApiError::Unauthorized(why) => ("unauthenticated", (*why).to_owned(), None),
            ApiError::BadRequest { field, message } => (
                "invalid_input",
                message.clone(),
                field
                    .as_deref()
                    .and_then(|field| FieldError::one(field, message)),
            ),
            ApiError::PayloadTooLarge { limit } => (
                "payload_too_large",
                format!("The request body is over the limit of {limit} bytes"),
                None,
            ),
            ApiError::TooManyAttempts { .. } => (
                "rate_limited",
                "Too many attempts; please wait before trying again".to_owned(),
                None,
            ),
            ApiError::BodyTimeout => (
                "request_timeout",
                "The request body did not arrive in time".to_owned(),
                None,
            ),
            ApiError::NoSuchPath => ("not_found", "No such path".to_owned(), None),
            ApiError::NotFound(what) => ("not_found", (*what).to_owned(), None),
            ApiError::MethodNotAllowed { .. } => (
                "method_not_allowed",
                "This path does not take this method".to_owned(),
                None,
            ),
        };
        let body = ErrorEnvelope {
            success: false,
            message,
            code,
            errors,
            request_id: status.is_server_error().then_some(request_id),
        };
        // Through `Value`, as every answer goes (see `envelope::json_body`); an envelope of
        // strings always serializes.
        let body = serde_json::to_value(&body).unwrap_or_default();
        let mut response = HttpResponse::build(status).json(body);
        if let Some(retry_after) = self.retry_after() {
            // Whole seconds, rounded up, never 0.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
        }
        if let ApiError::BodyTimeout = self {
            // The rest of the body may still come; the connection cannot be reused.
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        if let ApiError::MethodNotAllowed { allowed } = self {
            let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert(ALLOW, value);
            }
        }
        response
    }
}
