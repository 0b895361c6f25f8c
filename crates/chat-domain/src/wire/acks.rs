//! The acknowledgements the server answers client events with: [`AckDone`] (with its
//! [`AckData`]) and [`AckRefused`]. Acks travel as `serde_json::Value`, whose keys are sorted
//! whatever the declaration.

use serde::Serialize;

use super::MessageView;
use crate::ChatError;

/// The acknowledgement of a client event that was done: `{ success: true, data? }`.
#[derive(Debug, Clone, Serialize)]
pub struct AckDone {
    /// What the event produced, when it produces something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<AckData>,
    /// Always `true`.
    pub success: bool,
}

impl AckDone {
    /// The ack with `data`, if any.
    pub fn new(data: Option<AckData>) -> Self {
        AckDone {
            data,
            success: true,
        }
    }
}

/// The `data` of an [`AckDone`]; serialized, the record alone.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AckData {
    /// `send_message`: the message as stored; `edit_message`: as edited. Boxed: it is far
    /// larger than the other answers.
    Message(Box<MessageView>),
    /// `mark_as_read`: how many messages became read.
    Read(MarkedRead),
    /// `join_conversation` with `lastSeq`: what the catch-up sent.
    Joined(CatchUp),
    /// `send_message` with `sendAt`: the scheduled message.
    Scheduled(Box<super::ScheduledView>),
}

/// `data` of `PUT /api/chat/conversations/{id}/read`, and of the `mark_as_read` ack.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ReadReceipt))]
pub struct MarkedRead {
    /// How many messages became read.
    #[cfg_attr(feature = "openapi", schema(examples(2)))]
    pub updated: i64,
}

/// The ack data of `join_conversation` with `lastSeq`:
/// `{ complete, conversationId, lastSeq, replayed }`.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatchUp {
    /// Whether every message after `lastSeq` up to the join was sent (false when the
    /// recovery cap stopped it: read the rest over REST).
    pub complete: bool,
    /// The conversation joined.
    #[serde(rename = "conversationId")]
    pub conversation_id: i64,
    /// The `seq` of the last message sent (the asked `lastSeq` when none was).
    #[serde(rename = "lastSeq")]
    pub last_seq: i64,
    /// How many messages were sent.
    pub replayed: usize,
}

/// The acknowledgement of a refused client event:
/// `{ success: false, message, code, retryAfterMs?, field? }`.
#[derive(Debug, Clone, Serialize)]
pub struct AckRefused {
    /// A stable code for programs ([`ChatError::code`]).
    pub code: String,
    /// The payload field at fault, for invalid input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What went wrong, for people ([`ChatError::client_message`]).
    pub message: String,
    /// How long to wait before sending again, when rate limited.
    #[serde(rename = "retryAfterMs", skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Always `false`.
    pub success: bool,
}

impl From<&ChatError> for AckRefused {
    fn from(error: &ChatError) -> Self {
        let retry_after_ms = match error {
            ChatError::RateLimited { retry_after } => {
                Some(u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX))
            }
            _ => None,
        };
        let field = match error {
            ChatError::Invalid { field, .. } => Some((*field).to_owned()),
            _ => None,
        };
        AckRefused {
            code: error.code().to_owned(),
            field,
            message: error.client_message(),
            retry_after_ms,
            success: false,
        }
    }
}
