//! The body of a webhook event: the message, its conversation, and the members who should
//! hear of it because none of their sockets was connected when the event was first tried.
//!
//! ```json
//! { "id": "42", "type": "offline_message", "created_at": "2026-12-01T10:00:00Z",
//!   "message": { "id": 7, "conversation_id": 3, "seq": 12, "sender_id": 1,
//!                "sender_username": "alice", "content": "hi @bob", "attachment_url": null,
//!                "created_at": "2026-12-01T10:00:00Z" },
//!   "conversation": { "id": 3, "kind": "group", "title": "Team" },
//!   "recipients": [ { "user_id": 2, "mentioned": true } ] }
//! ```

use std::collections::HashSet;

use chat_domain::UserId;
use chat_store_pg::WebhookSubject;
use serde_json::{Value, json};

/// The event type of a message for offline members.
pub const OFFLINE_MESSAGE: &str = "offline_message";

/// The body of event `id` about `subject`, or `None` when nobody is to be told: the message
/// was deleted, or every member but the sender is connected.
pub fn body(id: i64, subject: &WebhookSubject, connected: &HashSet<UserId>) -> Option<Value> {
    if subject.deleted {
        return None;
    }
    let recipients: Vec<Value> = subject
        .members
        .iter()
        .filter(|member| **member != subject.sender_id && !connected.contains(&UserId(**member)))
        .map(|member| json!({ "user_id": member, "mentioned": subject.mentions.contains(member) }))
        .collect();
    if recipients.is_empty() {
        return None;
    }
    Some(json!({
        "id": id.to_string(),
        "type": OFFLINE_MESSAGE,
        "created_at": subject.created_at,
        "message": {
            "id": subject.id,
            "conversation_id": subject.conversation_id,
            "seq": subject.seq,
            "sender_id": subject.sender_id,
            "sender_username": subject.sender_username,
            "content": subject.content,
            "attachment_url": subject.attachment_url,
            "created_at": subject.created_at,
        },
        "conversation": {
            "id": subject.conversation_id,
            "kind": subject.kind,
            "title": subject.title,
        },
        "recipients": recipients,
    }))
}

/// The members an event may name: everyone in the conversation but the sender.
pub fn candidates(subject: &WebhookSubject) -> Vec<UserId> {
    subject
        .members
        .iter()
        .filter(|member| **member != subject.sender_id)
        .map(|member| UserId(*member))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn subject() -> WebhookSubject {
        WebhookSubject {
            id: 7,
            conversation_id: 3,
            seq: 12,
            sender_id: 1,
            sender_username: "alice".into(),
            content: "hi @bob".into(),
            attachment_url: None,
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            deleted: false,
            mentions: vec![2],
            kind: "group".into(),
            title: Some("Team".into()),
            members: vec![1, 2, 3],
        }
    }

    #[test]
    fn the_offline_members_but_the_sender_are_named_with_their_mentions() {
        let connected = HashSet::from([UserId(3)]);
        let body = body(42, &subject(), &connected).unwrap();
        assert_eq!(body["id"], "42");
        assert_eq!(body["type"], OFFLINE_MESSAGE);
        assert_eq!(
            body["recipients"],
            json!([{ "user_id": 2, "mentioned": true }])
        );
        assert_eq!(body["message"]["sender_username"], "alice");
        assert_eq!(body["conversation"]["title"], "Team");
    }

    #[test]
    fn nobody_offline_or_a_deleted_message_sends_nothing() {
        let everyone = HashSet::from([UserId(2), UserId(3)]);
        assert_eq!(body(42, &subject(), &everyone), None);
        let deleted = WebhookSubject {
            deleted: true,
            ..subject()
        };
        assert_eq!(body(42, &deleted, &HashSet::new()), None);
        assert_eq!(candidates(&subject()), vec![UserId(2), UserId(3)]);
    }
}
