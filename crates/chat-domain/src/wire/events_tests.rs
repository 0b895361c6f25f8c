//! The exact JSON of each event and ack: clients written for the seed parse these bytes.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::TimeZone;

use super::*;
use crate::{MessageId, Seq};

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap()
}

/// As an ack travels: through `serde_json::Value`, keys sorted.
fn as_value(value: &impl Serialize) -> String {
    serde_json::to_value(value).unwrap().to_string()
}

#[test]
fn every_event_has_one_distinct_name() {
    let names: BTreeSet<_> = ServerEvent::NAMES.iter().collect();
    assert_eq!(names.len(), ServerEvent::NAMES.len());
    let typing = MemberActivity::new(UserId(2), ConversationId(1));
    assert_eq!(ServerEvent::UserTyping(typing).name(), "user_typing");
    assert_eq!(ServerEvent::UserLeft(typing).name(), "user_left");
    let presence = Presence::from(UserId(2));
    assert_eq!(ServerEvent::UserOffline(presence).name(), "user_offline");
    assert_eq!(
        ServerEvent::Error(ErrorNotice::token_expired()).name(),
        "error"
    );
}

#[test]
fn room_events_keep_their_field_order() {
    let read = ChatEvent::MessagesRead(MessagesRead {
        conversation_id: ConversationId(1),
        user_id: UserId(2),
        last_read_seq: Seq(5),
        read_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
    });
    let event = ServerEvent::in_room(&read);
    assert_eq!(event.name(), "messages_read");
    assert_eq!(
        json(&event),
        r#"{"conversationId":1,"userId":2,"readAt":"2026-01-02T03:04:05.000Z","lastReadSeq":5}"#
    );
    let deleted = ChatEvent::MessageDeleted(MessageDeleted {
        conversation_id: ConversationId(1),
        message_id: MessageId(9),
        seq: Seq(4),
        deleted_by: UserId(2),
    });
    let event = ServerEvent::in_room(&deleted);
    assert_eq!(event.name(), "message_deleted");
    assert_eq!(
        json(&event),
        r#"{"conversationId":1,"deletedBy":2,"messageId":9,"seq":4}"#
    );
}

#[test]
fn member_and_presence_events_are_small_records() {
    let typing = ServerEvent::UserTyping(MemberActivity::new(UserId(2), ConversationId(1)));
    assert_eq!(json(&typing), r#"{"conversationId":1,"userId":2}"#);
    let online = ServerEvent::UserOnline(Presence::from(UserId(2)));
    assert_eq!(json(&online), r#"{"userId":2}"#);
}

#[test]
fn error_notices_name_the_refused_event() {
    assert_eq!(
        json(&ServerEvent::Error(ErrorNotice::token_expired())),
        r#"{"message":"Token expired","code":"token_expired"}"#
    );
    let refused = ErrorNotice::refused(
        "typing",
        &ChatError::invalid("conversationId", "is required"),
    );
    assert_eq!(
        as_value(&refused),
        r#"{"code":"invalid_input","event":"typing","message":"conversationId is required"}"#
    );
}

#[test]
fn acks_say_what_was_done_or_why_not() {
    assert_eq!(as_value(&AckDone::new(None)), r#"{"success":true}"#);
    let read = AckDone::new(Some(AckData::Read(MarkedRead { updated: 2 })));
    assert_eq!(as_value(&read), r#"{"data":{"updated":2},"success":true}"#);
    let caught_up = AckDone::new(Some(AckData::Joined(CatchUp {
        complete: true,
        conversation_id: 1,
        last_seq: 7,
        replayed: 3,
    })));
    assert_eq!(
        as_value(&caught_up),
        r#"{"data":{"complete":true,"conversationId":1,"lastSeq":7,"replayed":3},"success":true}"#
    );
    let limited = AckRefused::from(&ChatError::RateLimited {
        retry_after: Duration::from_millis(1500),
    });
    assert_eq!(
        as_value(&limited),
        r#"{"code":"rate_limited","message":"too many messages; retry in 1500 ms","retryAfterMs":1500,"success":false}"#
    );
    let invalid = AckRefused::from(&ChatError::invalid("content", "must not be empty"));
    assert_eq!(
        as_value(&invalid),
        r#"{"code":"invalid_input","field":"content","message":"content must not be empty","success":false}"#
    );
    let internal = AckRefused::from(&ChatError::Internal("connection to 10.0.0.5 lost".into()));
    assert_eq!(internal.message, "Internal server error");
}
