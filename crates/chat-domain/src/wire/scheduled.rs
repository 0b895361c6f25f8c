//! A scheduled message as its sender sees it (REST answers and the `send_message` ack).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::iso;
use crate::{Recipient, ScheduledMessage};

/// A message waiting for `sendAt`: `{ id, sender_id, receiver_id, conversation_id, content,
/// attachment_url, reply_to_id, sendAt, createdAt, updatedAt, failure, clientMessageId,
/// status }`. Exactly one of `receiver_id` and `conversation_id` is set, as the send named
/// it. When it is sent, the message carries `clientMessageId`, so that a client can replace
/// the scheduled entry with it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ScheduledMessage))]
pub struct ScheduledView {
    /// The scheduled message's id (the message gets its own when sent).
    #[cfg_attr(feature = "openapi", schema(examples(7)))]
    id: i64,
    /// Who sends it (the caller).
    sender_id: i64,
    /// The user it goes to, for a direct send by `receiverId`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    receiver_id: Option<i64>,
    /// The conversation it goes to, for a send by `conversationId`.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    conversation_id: Option<i64>,
    /// The text.
    content: String,
    /// The attachment's URL, or null.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    attachment_url: Option<String>,
    /// The message it replies to, or null.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    reply_to_id: Option<i64>,
    /// When it is to be sent.
    #[serde(rename = "sendAt", serialize_with = "iso")]
    send_at: DateTime<Utc>,
    /// When it was scheduled.
    #[serde(rename = "createdAt", serialize_with = "iso")]
    created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(rename = "updatedAt", serialize_with = "iso")]
    updated_at: DateTime<Utc>,
    /// `scheduled` until its time; `failed` when it could not be sent (see `failure`).
    #[cfg_attr(feature = "openapi", schema(examples("scheduled")))]
    status: &'static str,
    /// Why it could not be sent, or null.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    failure: Option<String>,
    /// The client message id it will be sent with (`scheduled:<id>`).
    #[serde(rename = "clientMessageId")]
    #[cfg_attr(feature = "openapi", schema(examples("scheduled:7")))]
    client_message_id: String,
}

impl ScheduledView {
    /// The view of a scheduled message.
    pub fn new(scheduled: &ScheduledMessage) -> Self {
        let (receiver_id, conversation_id) = match scheduled.to {
            Recipient::User(id) => (Some(id.get()), None),
            Recipient::Conversation(id) => (None, Some(id.get())),
        };
        ScheduledView {
            id: scheduled.id.get(),
            sender_id: scheduled.sender_id.get(),
            receiver_id,
            conversation_id,
            content: scheduled.content.clone(),
            attachment_url: scheduled.attachment_url.clone(),
            reply_to_id: scheduled.reply_to_id.map(|id| id.get()),
            send_at: scheduled.send_at,
            created_at: scheduled.created_at,
            updated_at: scheduled.updated_at,
            status: if scheduled.failure.is_some() {
                "failed"
            } else {
                "scheduled"
            },
            failure: scheduled.failure.clone(),
            client_message_id: scheduled.client_message_id().as_str().to_owned(),
        }
    }
}
