//! Reading requests: JSON bodies, query strings and path ids, each failure a 400 that names
//! what is wrong (or a 413 for an oversized body).

use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::web;
use chat_domain::{ChatError, Limits, MessageWindow, PageRequest, Seq, fields};
use serde::Deserialize;
use serde_json::Value;

use crate::ApiError;

/// JSON bodies up to `limit` bytes, with errors in the wire envelope.
pub(crate) fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |error, _| {
            let api = match &error {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => {
                    ApiError::PayloadTooLarge { limit }
                }
                JsonPayloadError::ContentType => ApiError::BadRequest {
                    field: None,
                    message: "Content-Type must be application/json".into(),
                },
                JsonPayloadError::Deserialize(e) => ApiError::BadRequest {
                    field: None,
                    message: format!("Malformed JSON body: {e}"),
                },
                _ => ApiError::BadRequest {
                    field: None,
                    message: "The request body could not be read".into(),
                },
            };
            actix_web::Error::from(api)
        })
}

/// A JSON body that must be an object. Derived `Deserialize` also reads a struct from an array
/// of its fields in order, which no client means to send; this wrapper refuses it.
#[derive(Debug)]
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        T::deserialize(Value::Object(map))
            .map(Object)
            .map_err(serde::de::Error::custom)
    }
}

/// Query strings with errors in the wire envelope.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error: QueryPayloadError, _| {
        ApiError::BadRequest {
            field: None,
            message: format!("Malformed query string: {error}"),
        }
        .into()
    })
}

/// An error of the field reader as REST words it: `errors[].message` is the whole sentence
/// (`receiverId must be a positive integer`), as on every REST field error of this kind.
fn field_error(error: ChatError) -> ApiError {
    match error {
        ChatError::Invalid { field, .. } => ApiError::field(field, error.client_message()),
        other => ApiError::Domain(other),
    }
}

/// A positive integer from a path segment or parameter.
pub(crate) fn positive(field: &'static str, raw: &str) -> Result<i64, ApiError> {
    fields::positive_integer_text(field, raw).map_err(field_error)
}

fn optional_positive(field: &'static str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|raw| positive(field, raw)).transpose()
}

/// An `after` cursor: a `seq`, or 0 for "before the first message", so that `after=0` reads
/// from the start, as a client that has seen nothing asks. (`before` has no such edge: every
/// message's `seq` is at least 1, so `before=1` is already the empty past of the first one.)
fn optional_after(field: &'static str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|raw| {
        raw.trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                ApiError::field(
                    field,
                    format!("{field} must be a sequence number (0 or more)"),
                )
            })
    })
    .transpose()
}

/// A required positive integer of a JSON body ([`fields::positive_integer`], as sockets read
/// their payloads).
pub(crate) fn positive_json(field: &'static str, value: Option<&Value>) -> Result<i64, ApiError> {
    fields::positive_integer(field, value).map_err(field_error)
}

/// An optional string of a JSON body ([`fields::optional_string`]).
pub(crate) fn string_json(
    field: &'static str,
    value: Option<&Value>,
) -> Result<Option<String>, ApiError> {
    fields::optional_string(field, value).map_err(field_error)
}

/// An optional RFC 3339 time of a JSON body ([`fields::optional_time`]).
pub(crate) fn time_json(
    field: &'static str,
    value: Option<&Value>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    fields::optional_time(field, value).map_err(field_error)
}

/// A required string of a JSON body ([`fields::required_string`]).
pub(crate) fn required_string_json(
    field: &'static str,
    value: Option<&Value>,
) -> Result<String, ApiError> {
    fields::required_string(field, value).map_err(field_error)
}

/// A required list of user ids of a JSON body ([`fields::positive_integers`]), at most `max`.
pub(crate) fn user_ids_json(
    field: &'static str,
    value: Option<&Value>,
    max: usize,
) -> Result<Vec<chat_domain::UserId>, ApiError> {
    let ids = fields::positive_integers(field, value, max).map_err(field_error)?;
    Ok(ids.into_iter().map(chat_domain::UserId).collect())
}

/// The query parameters list endpoints understand; unknown ones are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    page: Option<String>,
    limit: Option<String>,
    before: Option<String>,
    after: Option<String>,
    /// The search term, where the endpoint takes one (`q`, or `search` for users).
    pub(crate) q: Option<String>,
    /// The user search term.
    pub(crate) search: Option<String>,
}

impl ListQuery {
    /// `page` and `limit`, validated, with the list's default page size.
    pub(crate) fn page(
        &self,
        default_limit: u32,
        limits: &Limits,
    ) -> Result<PageRequest, ApiError> {
        let page = optional_positive("page", self.page.as_deref())?;
        let limit = optional_positive("limit", self.limit.as_deref())?;
        Ok(PageRequest::parse(
            page,
            limit,
            default_limit,
            limits.max_page_size,
        )?)
    }

    /// A keyset page of a list ordered by id, newest first: `before` (an id, exclusive) and
    /// `limit` (default `default_limit`, clamped to the largest page).
    pub(crate) fn keyset(
        &self,
        default_limit: u32,
        limits: &Limits,
    ) -> Result<(Option<i64>, u32), ApiError> {
        for (field, given) in [("page", &self.page), ("after", &self.after)] {
            if given.is_some() {
                return Err(ApiError::field(
                    field,
                    "is not understood by this list, which pages with before",
                ));
            }
        }
        let before = optional_positive("before", self.before.as_deref())?;
        let page = self.page(default_limit, limits)?;
        Ok((before, page.limit))
    }

    /// The window of a message list: a `before` or `after` cursor wins over `page`.
    pub(crate) fn window(&self, limits: &Limits) -> Result<MessageWindow, ApiError> {
        let page = self.page(limits.default_message_page, limits)?;
        let before = optional_positive("before", self.before.as_deref())?;
        let after = optional_after("after", self.after.as_deref())?;
        Ok(match (before, after) {
            (Some(_), Some(_)) => {
                return Err(ApiError::field(
                    "before",
                    "before and after cannot be combined",
                ));
            }
            (Some(seq), None) => MessageWindow::Before {
                seq: Seq(seq),
                limit: page.limit,
            },
            (None, Some(seq)) => MessageWindow::After {
                seq: Seq(seq),
                limit: page.limit,
            },
            (None, None) => MessageWindow::Page(page),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_positive_integers() {
        assert_eq!(positive("id", "42").unwrap(), 42);
        for bad in ["0", "-1", "abc", "1.5", "", "99999999999999999999"] {
            assert!(positive("id", bad).is_err(), "{bad}");
        }
        assert_eq!(
            positive_json("receiverId", Some(&serde_json::json!("7"))).unwrap(),
            7
        );
        assert!(positive_json("receiverId", Some(&serde_json::json!(true))).is_err());
        assert!(positive_json("receiverId", None).is_err());
    }

    #[test]
    fn a_field_error_names_the_field_in_its_whole_sentence() {
        let Err(ApiError::BadRequest { field, message }) =
            positive_json("receiverId", Some(&serde_json::json!(0)))
        else {
            panic!("accepted");
        };
        assert_eq!(field.as_deref(), Some("receiverId"));
        assert_eq!(message, "receiverId must be a positive integer");
        let Err(ApiError::BadRequest { message, .. }) = required_string_json("content", None)
        else {
            panic!("accepted");
        };
        assert_eq!(message, "content is required");
    }

    #[test]
    fn cursors_win_over_pages_and_exclude_each_other() {
        let limits = Limits::default();
        let query = ListQuery {
            before: Some("10".into()),
            limit: Some("5".into()),
            page: Some("3".into()),
            ..ListQuery::default()
        };
        assert_eq!(
            query.window(&limits).unwrap(),
            MessageWindow::Before {
                seq: Seq(10),
                limit: 5
            }
        );
        let both = ListQuery {
            before: Some("10".into()),
            after: Some("2".into()),
            ..ListQuery::default()
        };
        assert!(both.window(&limits).is_err());
    }

    #[test]
    fn cursors_take_their_natural_edges() {
        let limits = Limits::default();
        let cursor = |before: Option<&str>, after: Option<&str>| ListQuery {
            before: before.map(Into::into),
            after: after.map(Into::into),
            ..ListQuery::default()
        };
        assert_eq!(
            cursor(None, Some("0")).window(&limits).unwrap(),
            MessageWindow::After {
                seq: Seq(0),
                limit: 50
            },
            "after=0 is from the start"
        );
        assert_eq!(
            cursor(Some("1"), None).window(&limits).unwrap(),
            MessageWindow::Before {
                seq: Seq(1),
                limit: 50
            },
            "before=1 is the (empty) past of the first message"
        );
        assert!(
            cursor(Some("0"), None).window(&limits).is_err(),
            "no seq is 0"
        );
        let last = i64::MAX.to_string();
        assert!(cursor(Some(&last), None).window(&limits).is_ok());
        for bad in ["-1", "x", "1.5", ""] {
            assert!(cursor(None, Some(bad)).window(&limits).is_err(), "{bad}");
        }
    }
}
