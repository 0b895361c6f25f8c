//! The success half of the wire envelope, `{ success: true, message?, data }`, as the type
//! that both the handlers answer with and the OpenAPI document describes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use chat_domain::ChatError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::ApiError;

/// The success envelope: `{ success: true, message?, data }`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Envelope<T> {
    /// Always `true`.
    #[schema(examples(true))]
    success: bool,
    /// A sentence for people; present on `send`, `read`, `register`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    message: Option<String>,
    /// The answer, for programs.
    data: T,
}

/// The answer of an operation that returns no data: `{ success: true, message }`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Done {
    /// Always `true`.
    #[schema(examples(true))]
    success: bool,
    /// What happened, for people.
    #[schema(examples("Message deleted successfully"))]
    message: String,
}

/// A JSON answer. Bodies go out through `serde_json::Value`, whose object keys are sorted, as
/// they always have: the bytes clients see do not depend on the order a type declares its
/// fields in (the document keeps the declared order).
pub(crate) fn json_body(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    match serde_json::to_value(body) {
        Ok(value) => HttpResponse::build(status).json(value),
        Err(error) => ApiError::from(ChatError::Internal(Box::new(error))).error_response(),
    }
}

/// 201 for a write that created something, 200 for a retry answered with what the first
/// attempt created (it writes nothing).
pub(crate) fn created_unless(replayed: bool) -> StatusCode {
    if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

/// 200 with `data`.
pub(crate) fn ok(data: impl Serialize) -> HttpResponse {
    with_status(StatusCode::OK, data)
}

/// A status with `data`.
pub(crate) fn with_status(status: StatusCode, data: impl Serialize) -> HttpResponse {
    json_body(
        status,
        &Envelope {
            success: true,
            message: None,
            data,
        },
    )
}

/// A status with a message for people and `data` for programs.
pub(crate) fn with_message(
    status: StatusCode,
    message: &str,
    data: impl Serialize,
) -> HttpResponse {
    json_body(
        status,
        &Envelope {
            success: true,
            message: Some(message.to_owned()),
            data,
        },
    )
}

/// 200 with a message and no data.
pub(crate) fn done(message: &str) -> HttpResponse {
    json_body(
        StatusCode::OK,
        &Done {
            success: true,
            message: message.to_owned(),
        },
    )
}
