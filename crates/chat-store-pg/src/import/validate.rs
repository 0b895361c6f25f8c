//! What the server would accept of the source's rows, decided by the same parsers a client's
//! input goes through ([`MessageBody`], [`AttachmentUrl`], [`Username`]), so that nothing the
//! server would refuse is imported. A refused row is skipped whole, with a reason that the
//! summary groups by.

use std::collections::HashMap;

use chat_domain::{AttachmentUrl, ChatError, Limits, MessageBody, Username, case_key};
use chrono::{DateTime, Utc};

use super::source::{SourceConversation, SourceMessage, SourceUser};

/// A user ready to be written.
#[derive(Debug)]
pub(crate) struct UserRecord {
    pub(crate) id: i64,
    pub(crate) username: String,
    pub(crate) username_key: String,
    /// Whether the source had no usable name, so the user is called `user<id>`.
    pub(crate) named_by_id: bool,
}

/// A direct conversation ready to be written: its pair, smaller id first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConversationRecord {
    pub(crate) id: i64,
    pub(crate) low: i64,
    pub(crate) high: i64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// A message ready to be written (its seq is given when it is written).
#[derive(Debug, Clone)]
pub(crate) struct MessageRecord {
    pub(crate) id: i64,
    pub(crate) conversation_id: i64,
    pub(crate) sender_id: i64,
    /// The member whose read flag `is_read` is: the other member of the pair.
    pub(crate) reader_id: i64,
    pub(crate) content: String,
    pub(crate) attachment_url: Option<String>,
    pub(crate) read: Option<DateTime<Utc>>,
    pub(crate) deleted_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// What became of a source conversation, as its messages need to know.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ConversationFate {
    /// In the target with this pair (imported now or before).
    Kept { low: i64, high: i64 },
    /// Not imported; its messages are not either.
    Skipped,
}

/// Why a row is skipped.
pub(crate) type Reason = String;

fn invalid(error: ChatError) -> Reason {
    match error {
        ChatError::Invalid { field, reason } => format!("{field} {reason}"),
        other => other.to_string(),
    }
}

/// A user: the source's username when the server accepts it as one, else `user<id>`, the
/// name a user provisioned from a token without a name gets.
pub(crate) fn user(row: SourceUser) -> Result<UserRecord, Reason> {
    if row.id <= 0 {
        return Err("the id is not a positive number".to_owned());
    }
    let parsed = row.username.and_then(|name| Username::parse(name).ok());
    let named_by_id = parsed.is_none();
    let username = parsed.map_or_else(|| format!("user{}", row.id), |n| n.as_str().to_owned());
    Ok(UserRecord {
        id: row.id,
        username_key: case_key(&username),
        username,
        named_by_id,
    })
}

/// A conversation: two different, positive participants.
pub(crate) fn conversation(row: &SourceConversation) -> Result<ConversationRecord, Reason> {
    if row.id <= 0 {
        return Err("the id is not a positive number".to_owned());
    }
    let (Some(a), Some(b)) = (row.participant_1, row.participant_2) else {
        return Err("a participant is missing".to_owned());
    };
    if a <= 0 || b <= 0 {
        return Err("a participant's id is not a positive number".to_owned());
    }
    if a == b {
        return Err("the same user is in it twice".to_owned());
    }
    Ok(ConversationRecord {
        id: row.id,
        low: a.min(b),
        high: a.max(b),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// A message: in a kept conversation, from one member to the other, with content and an
/// attachment the server accepts from a client.
pub(crate) fn message(
    row: SourceMessage,
    fates: &HashMap<i64, ConversationFate>,
    limits: &Limits,
) -> Result<MessageRecord, Reason> {
    if row.id <= 0 {
        return Err("the id is not a positive number".to_owned());
    }
    let fate = row.conversation_id.and_then(|id| fates.get(&id));
    let (low, high) = match fate {
        Some(ConversationFate::Kept { low, high }) => (*low, *high),
        Some(ConversationFate::Skipped) => return Err("its conversation was skipped".to_owned()),
        None => return Err("its conversation does not exist".to_owned()),
    };
    let sender = row.sender_id.unwrap_or_default();
    let reader = match sender {
        s if s == low => high,
        s if s == high => low,
        _ => return Err("the sender is not a participant of its conversation".to_owned()),
    };
    if row.receiver_id.is_some_and(|r| r != reader) {
        return Err("the receiver is not the other participant".to_owned());
    }
    let content = MessageBody::parse(row.content.unwrap_or_default(), limits).map_err(invalid)?;
    let attachment_url = match row.attachment_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => Some(
            AttachmentUrl::parse(url, limits)
                .map_err(invalid)?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    Ok(MessageRecord {
        id: row.id,
        conversation_id: row.conversation_id.unwrap_or_default(),
        sender_id: sender,
        reader_id: reader,
        content: content.as_str().to_owned(),
        attachment_url,
        // Node sets read_at when it marks a message read; a flag without one was read by
        // the time the row was last written.
        read: row.is_read.then_some(row.read_at.unwrap_or(row.updated_at)),
        deleted_at: row.deleted_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }

    fn source_message(sender: i64, receiver: Option<i64>, content: &str) -> SourceMessage {
        SourceMessage {
            id: 7,
            conversation_id: Some(1),
            sender_id: Some(sender),
            receiver_id: receiver,
            content: Some(content.to_owned()),
            attachment_url: None,
            is_read: true,
            read_at: None,
            deleted_at: None,
            created_at: at(10),
            updated_at: at(20),
        }
    }

    fn kept() -> HashMap<i64, ConversationFate> {
        HashMap::from([(1, ConversationFate::Kept { low: 2, high: 5 })])
    }

    #[test]
    fn a_message_goes_from_one_member_to_the_other() {
        let limits = Limits::default();
        let ok = message(source_message(5, Some(2), "hi"), &kept(), &limits);
        let ok = ok.map_err(|r| r.clone());
        assert_eq!(ok.as_ref().map(|m| m.reader_id), Ok(2));
        assert_eq!(
            ok.map(|m| m.read),
            Ok(Some(at(20))),
            "read without read_at: read by the row's last write"
        );
        for (row, reason) in [
            (
                source_message(3, Some(2), "hi"),
                "the sender is not a participant of its conversation",
            ),
            (
                source_message(5, Some(3), "hi"),
                "the receiver is not the other participant",
            ),
            (source_message(5, None, "  "), "content must not be empty"),
        ] {
            assert_eq!(
                message(row, &kept(), &limits).map(|m| m.id),
                Err(reason.to_owned())
            );
        }
        let long = "x".repeat(limits.max_message_chars + 1);
        assert!(message(source_message(5, None, &long), &kept(), &limits).is_err());
    }

    #[test]
    fn a_conversation_needs_two_different_users() {
        let row = |a, b| SourceConversation {
            id: 1,
            participant_1: a,
            participant_2: b,
            created_at: at(0),
            updated_at: at(0),
        };
        assert_eq!(
            conversation(&row(Some(9), Some(4))).map(|c| (c.low, c.high)),
            Ok((4, 9))
        );
        assert!(conversation(&row(Some(4), Some(4))).is_err());
        assert!(conversation(&row(None, Some(4))).is_err());
    }

    #[test]
    fn a_user_without_a_usable_name_is_named_by_id() {
        let named = |name: Option<&str>| {
            user(SourceUser {
                id: 3,
                username: name.map(str::to_owned),
            })
            .map(|u| u.username)
        };
        assert_eq!(named(Some(" alice ")), Ok("alice".to_owned()));
        assert_eq!(named(None), Ok("user3".to_owned()));
        assert_eq!(named(Some("a\u{200b}b")), Ok("user3".to_owned()));
    }
}
