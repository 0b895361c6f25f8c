//! Reading client event payloads and writing acknowledgements, in the wire's shapes.

use chat_domain::fields;
use chat_domain::wire::events::{AckData, AckDone, AckRefused};
use chat_domain::{ChatError, ConversationId};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::socketio::Data;

/// The first argument of an event: its JSON, and which of its fields hold binary data (a
/// client's `Buffer`, sent as an attachment), which no field the chat reads may be.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Payload {
    json: Value,
    binary: Vec<String>,
}

impl Payload {
    /// The payload of an event's arguments (`null` when absent, or when the whole argument is
    /// binary).
    pub(crate) fn from_args(args: Vec<Data>) -> Self {
        match args.into_iter().next() {
            Some(Data::Json(json)) => Self::from(json),
            Some(Data::Object(entries)) => {
                let mut object = Map::new();
                let mut binary = Vec::new();
                for (key, value) in entries {
                    match value {
                        Data::Json(json) => {
                            object.insert(key, json);
                        }
                        Data::Binary(_) | Data::Array(_) | Data::Object(_) => binary.push(key),
                    }
                }
                Self {
                    json: Value::Object(object),
                    binary,
                }
            }
            Some(Data::Binary(_) | Data::Array(_)) | None => Self::default(),
        }
    }

    /// The value of `field`; refused, naming the field, when it holds binary data.
    pub(crate) fn get(&self, field: &'static str) -> Result<Option<&Value>, ChatError> {
        if self.binary.iter().any(|key| key == field) {
            return Err(ChatError::invalid(field, "must not be binary data"));
        }
        Ok(self.json.get(field))
    }
}

impl From<Value> for Payload {
    fn from(json: Value) -> Self {
        Self {
            json,
            binary: Vec::new(),
        }
    }
}

impl Payload {
    /// A required positive integer field (a number or a string of digits), read as REST reads
    /// its bodies ([`fields::positive_integer`]).
    pub(crate) fn positive(&self, field: &'static str) -> Result<i64, ChatError> {
        fields::positive_integer(field, self.get(field)?)
    }

    /// An optional string field ([`fields::optional_string`]).
    pub(crate) fn string(&self, field: &'static str) -> Result<Option<String>, ChatError> {
        fields::optional_string(field, self.get(field)?)
    }

    /// An optional RFC 3339 time field ([`fields::optional_time`]).
    pub(crate) fn time(
        &self,
        field: &'static str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ChatError> {
        fields::optional_time(field, self.get(field)?)
    }

    /// A required string field ([`fields::required_string`]).
    pub(crate) fn required_string(&self, field: &'static str) -> Result<String, ChatError> {
        fields::required_string(field, self.get(field)?)
    }
}

/// The `conversationId` of a payload.
pub(crate) fn conversation_id(payload: &Payload) -> Result<ConversationId, ChatError> {
    payload.positive("conversationId").map(ConversationId)
}

/// A wire record as JSON. Acks always went out through `serde_json::Value`, whose keys are
/// sorted, and still do, so that their bytes stay as clients know them. The wire types always
/// serialize (no map has non-string keys).
pub(crate) fn to_json(record: &impl Serialize) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// `{ success: true, data? }`.
pub(crate) fn ok(data: Option<AckData>) -> Vec<Data> {
    vec![Data::Json(to_json(&AckDone::new(data)))]
}

/// `{ success: false, message, code, retryAfterMs?, field? }`.
pub(crate) fn failed(error: &ChatError) -> Value {
    to_json(&AckRefused::from(error))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    #[test]
    fn a_refused_send_says_when_to_retry_and_keeps_causes_private() {
        let limited = failed(&ChatError::RateLimited {
            retry_after: Duration::from_millis(1500),
        });
        assert_eq!(
            limited,
            json!({ "success": false, "message": "too many messages; retry in 1500 ms", "code": "rate_limited", "retryAfterMs": 1500 })
        );
        let invalid = failed(&ChatError::invalid("content", "must not be empty"));
        assert_eq!(
            (invalid["field"].as_str(), invalid["message"].as_str()),
            (Some("content"), Some("content must not be empty"))
        );
        let internal = failed(&ChatError::Internal("connection to 10.0.0.5 lost".into()));
        assert_eq!(internal["message"], "Internal server error");
    }

    #[test]
    fn binary_fields_are_ignored_unless_read_and_refused_by_name_when_read() {
        let args = vec![Data::Object(vec![
            ("receiverId".to_owned(), Data::Json(json!(2))),
            ("content".to_owned(), Data::Json(json!("hi"))),
            (
                "thumb".to_owned(),
                Data::Binary(bytes::Bytes::from_static(b"\x89PNG")),
            ),
        ])];
        let payload = Payload::from_args(args);
        assert_eq!(payload.string("content").unwrap().as_deref(), Some("hi"));
        assert_eq!(payload.positive("receiverId").unwrap(), 2);
        let binary_content = Payload::from_args(vec![Data::Object(vec![(
            "content".to_owned(),
            Data::Binary(bytes::Bytes::from_static(b"hi")),
        )])]);
        let refused = binary_content.string("content").unwrap_err();
        assert!(
            matches!(
                &refused,
                ChatError::Invalid {
                    field: "content",
                    ..
                }
            ),
            "{refused:?}"
        );
    }

    #[test]
    fn ids_come_as_numbers_or_digit_strings() {
        assert_eq!(
            conversation_id(&json!({ "conversationId": 7 }).into()).unwrap(),
            ConversationId(7)
        );
        assert_eq!(
            conversation_id(&json!({ "conversationId": "7" }).into()).unwrap(),
            ConversationId(7)
        );
        for bad in [
            json!({}),
            json!({ "conversationId": 0 }),
            json!({ "conversationId": "x" }),
            json!(null),
        ] {
            assert!(conversation_id(&bad.clone().into()).is_err(), "{bad}");
        }
    }
}
