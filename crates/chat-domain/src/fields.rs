//! Reading the fields of a client's JSON, the same way for a REST body and a Socket.IO
//! payload: each bad field is a [`ChatError::Invalid`] naming it, which every transport maps
//! to its 400 or refused ack.
//!
//! Clients written for the seed send ids as numbers or as strings of digits (as forms do), so
//! both are read; anything else is refused rather than guessed at.

use serde_json::Value;

use crate::ChatError;

/// A required positive integer (`receiverId`, `conversationId`): a JSON number, or a string of
/// digits. Absent or `null` is "is required"; anything else "must be a positive integer".
pub fn positive_integer(field: &'static str, value: Option<&Value>) -> Result<i64, ChatError> {
    let invalid = || not_positive(field);
    match value {
        None | Some(Value::Null) => Err(required(field)),
        Some(Value::Number(n)) => n.as_i64().filter(|n| *n > 0).ok_or_else(invalid),
        Some(Value::String(s)) => positive_integer_text(field, s),
        Some(_) => Err(invalid()),
    }
}

/// An optional positive integer (`replyToId`): `None` when absent or `null`, otherwise read
/// as [`positive_integer`] reads it.
pub fn optional_positive_integer(
    field: &'static str,
    value: Option<&Value>,
) -> Result<Option<i64>, ChatError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(_) => positive_integer(field, value).map(Some),
    }
}

/// A positive integer written as text (a path segment, a query parameter, a string field),
/// surrounding whitespace ignored.
pub fn positive_integer_text(field: &'static str, raw: &str) -> Result<i64, ChatError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| not_positive(field))
}

/// An optional string: `None` when absent or `null`; any other type "must be a string".
pub fn optional_string(
    field: &'static str,
    value: Option<&Value>,
) -> Result<Option<String>, ChatError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ChatError::invalid(field, "must be a string")),
    }
}

/// A required string: as [`optional_string`], and absent or `null` is "is required".
pub fn required_string(field: &'static str, value: Option<&Value>) -> Result<String, ChatError> {
    optional_string(field, value)?.ok_or_else(|| required(field))
}

/// A required list of positive integers (`memberIds`, `userIds`), each a number or a string
/// of digits; an empty list is allowed. At most `max` items are read (a longer list is
/// refused without looking further, so its size bounds the work).
pub fn positive_integers(
    field: &'static str,
    value: Option<&Value>,
    max: usize,
) -> Result<Vec<i64>, ChatError> {
    let items = match value {
        None | Some(Value::Null) => return Err(required(field)),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ChatError::invalid(field, "must be a list of ids")),
    };
    if items.len() > max {
        return Err(ChatError::invalid(
            field,
            format!("must hold at most {max} ids"),
        ));
    }
    items
        .iter()
        .map(|item| {
            positive_integer(field, Some(item))
                .map_err(|_| ChatError::invalid(field, "must hold only positive integers"))
        })
        .collect()
}

/// An optional RFC 3339 time (`2026-12-01T09:30:00Z`, any offset); absent or `null` is none.
pub fn optional_time(
    field: &'static str,
    value: Option<&Value>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ChatError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => time_text(field, raw).map(Some),
        Some(_) => Err(not_a_time(field)),
    }
}

/// An RFC 3339 time given as text (a query parameter, say).
pub fn time_text(
    field: &'static str,
    raw: &str,
) -> Result<chrono::DateTime<chrono::Utc>, ChatError> {
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| not_a_time(field))
}

fn not_a_time(field: &'static str) -> ChatError {
    ChatError::invalid(field, "must be an RFC 3339 time (2026-12-01T09:30:00Z)")
}

fn required(field: &'static str) -> ChatError {
    ChatError::invalid(field, "is required")
}

fn not_positive(field: &'static str) -> ChatError {
    ChatError::invalid(field, "must be a positive integer")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reason(result: Result<impl std::fmt::Debug, ChatError>) -> String {
        match result {
            Err(error) => error.client_message(),
            Ok(value) => panic!("accepted {value:?}"),
        }
    }

    #[test]
    fn ids_come_as_numbers_or_digit_strings() {
        assert_eq!(positive_integer("id", Some(&json!(7))).ok(), Some(7));
        assert_eq!(positive_integer("id", Some(&json!(" 7 "))).ok(), Some(7));
        for bad in [
            json!(0),
            json!(-1),
            json!("x"),
            json!(1.5),
            json!(true),
            json!([1]),
        ] {
            assert_eq!(
                reason(positive_integer("id", Some(&bad))),
                "id must be a positive integer",
                "{bad}"
            );
        }
        assert_eq!(reason(positive_integer("id", None)), "id is required");
        assert_eq!(
            reason(positive_integer("id", Some(&Value::Null))),
            "id is required"
        );
        for bad in ["0", "-1", "abc", "1.5", "", "99999999999999999999"] {
            assert!(positive_integer_text("id", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_must_be_strings_and_null_is_absent() {
        assert_eq!(optional_string("content", None).ok(), Some(None));
        assert_eq!(
            optional_string("content", Some(&Value::Null)).ok(),
            Some(None)
        );
        assert_eq!(
            optional_string("content", Some(&json!("hi"))).ok(),
            Some(Some("hi".to_owned()))
        );
        assert_eq!(
            reason(optional_string("content", Some(&json!(5)))),
            "content must be a string"
        );
        assert_eq!(
            reason(required_string("content", None)),
            "content is required"
        );
    }
}
