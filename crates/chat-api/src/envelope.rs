//! The success half of the wire envelope: `{ success: true, message?, data }`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::json;

/// 200 with `data`.
pub(crate) fn ok(data: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "success": true, "data": data }))
}

/// A status with a message for people and `data` for programs.
pub(crate) fn with_message(
    status: StatusCode,
    message: &str,
    data: impl Serialize,
) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "success": true, "message": message, "data": data }))
}
