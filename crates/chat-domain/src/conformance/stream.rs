//! The event stream and recovery sessions: gapless positions per writer, read back exactly as
//! published, scoped to the reader's conversations.

// Test bodies: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use super::*;
use crate::{STREAM_WRITERS, StreamEvent, StreamPosition, StreamScope, StreamToken, writer_of};

/// What identifies an event: a stored message's later changes (its deletion) are not part of it.
type EventKey = (
    StreamPosition,
    ConversationId,
    &'static str,
    i64,
    Seq,
    Vec<UserId>,
);

fn key(e: &StreamEvent) -> EventKey {
    let conversation = e.conversation_id();
    match &e.event {
        ChatEvent::MessageSent(s) => (
            e.position,
            conversation,
            "sent",
            s.message.id.get(),
            s.message.seq,
            s.members.iter().map(|m| m.id).collect(),
        ),
        ChatEvent::MessageEdited(s) => (
            e.position,
            conversation,
            "edited",
            s.message.id.get(),
            s.message.seq,
            s.members.iter().map(|m| m.id).collect(),
        ),
        ChatEvent::ReactionAdded(r) | ChatEvent::ReactionRemoved(r) => (
            e.position,
            conversation,
            if matches!(e.event, ChatEvent::ReactionAdded(_)) {
                "reaction_added"
            } else {
                "reaction_removed"
            },
            r.message_id.get(),
            Seq(r.count),
            vec![r.user_id],
        ),
        ChatEvent::MessagePinned(p) | ChatEvent::MessageUnpinned(p) => (
            e.position,
            conversation,
            if matches!(e.event, ChatEvent::MessagePinned(_)) {
                "pinned"
            } else {
                "unpinned"
            },
            p.message_id.get(),
            p.seq,
            vec![p.by],
        ),
        ChatEvent::MessageDeleted(d) => (
            e.position,
            conversation,
            "deleted",
            d.message_id.get(),
            d.seq,
            vec![d.deleted_by],
        ),
        ChatEvent::MessagesRead(r) => (
            e.position,
            conversation,
            "read",
            0,
            r.last_read_seq,
            vec![r.user_id],
        ),
        ChatEvent::ConversationCreated(c) | ChatEvent::ConversationUpdated(c) => (
            e.position,
            conversation,
            if matches!(e.event, ChatEvent::ConversationCreated(_)) {
                "created"
            } else {
                "updated"
            },
            0,
            Seq::ZERO,
            vec![c.by],
        ),
        ChatEvent::MemberAdded(m)
        | ChatEvent::MemberRemoved(m)
        | ChatEvent::MemberRoleChanged(m) => (
            e.position,
            conversation,
            match (&e.event, m.role) {
                (ChatEvent::MemberAdded(_), _) => "added",
                (ChatEvent::MemberRemoved(_), _) => "removed",
                (_, crate::Role::Owner) => "role owner",
                (_, crate::Role::Admin) => "role admin",
                (_, crate::Role::Member) => "role member",
            },
            0,
            Seq::ZERO,
            vec![m.member.id, m.by],
        ),
    }
}

pub async fn the_stream_reads_back_every_event_as_published_gapless_per_writer<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let start = store.stream_head().await.unwrap();
    let with_bob = say(&service, ALICE, BOB, "1").await;
    let with_carol = say(&service, ALICE, CAROL, "2").await;
    let doomed = service
        .send_message(send(BOB, ALICE, "3"))
        .await
        .unwrap()
        .message;
    service.mark_read(BOB, with_bob).await.unwrap();
    service.delete_message(BOB, doomed.id).await.unwrap();
    say(&service, CAROL, ALICE, "4").await;
    let published: Vec<StreamEvent> = events.take_positioned();
    assert_eq!(published.len(), 6);
    let head = store.stream_head().await.unwrap();
    let mut read_back = Vec::new();
    for writer in 0..STREAM_WRITERS {
        let range = store
            .stream_range(writer, start.get(writer), head.get(writer))
            .await
            .unwrap();
        let positions: Vec<i64> = range.iter().map(|e| e.position.position).collect();
        let expected: Vec<i64> = (start.get(writer) + 1..=head.get(writer)).collect();
        assert_eq!(positions, expected, "writer {writer} is gapless");
        assert!(
            range
                .iter()
                .all(|e| writer_of(e.conversation_id()) == writer)
        );
        read_back.extend(range);
    }
    let mut published: Vec<EventKey> = published.iter().map(key).collect();
    let mut read_back: Vec<EventKey> = read_back.iter().map(key).collect();
    published.sort();
    read_back.sort();
    assert_eq!(read_back, published, "read back as published");

    assert_eq!(
        store.seq_at(with_bob, head).await.unwrap(),
        Seq(2),
        "the newest message there, deleted or not"
    );
    assert_eq!(
        store.seq_at(with_bob, start).await.unwrap(),
        Seq(0),
        "before its first message"
    );

    let everything = StreamScope {
        rooms: Vec::new(),
        others: Some(start),
    };
    let carols = store
        .stream_for(CAROL, &everything, head, 100)
        .await
        .unwrap();
    assert!(carols.iter().all(|e| e.conversation_id() == with_carol));
    assert_eq!(carols.len(), 2, "carol sees her conversation only");
    let bob_from_now = StreamScope {
        rooms: vec![(with_bob, head)],
        others: None,
    };
    assert!(
        store
            .stream_for(BOB, &bob_from_now, head, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let limited = store.stream_for(ALICE, &everything, head, 2).await.unwrap();
    assert_eq!(limited.len(), 2);
    let alice_all = store
        .stream_for(ALICE, &everything, head, 100)
        .await
        .unwrap();
    assert_eq!(&alice_all[..2], &limited[..]);
    let order: Vec<_> = alice_all.iter().map(|e| e.position).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "ordered by writer then position");
    assert!(
        store
            .stream_for(ALICE, &everything, start, 100)
            .await
            .unwrap()
            .is_empty(),
        "nothing past `upto`"
    );
}

pub async fn a_recovery_session_is_claimed_by_its_user_within_the_window<S: Store>(store: S) {
    let (service, _) = setup(store.clone()).await;
    let room = say(&service, ALICE, BOB, "hi").await;
    let base = StreamToken::new([1; STREAM_WRITERS]);
    let joined = StreamToken::new([2; STREAM_WRITERS]);
    store.open_session("p1", ALICE, "s1", base).await.unwrap();
    store.join_session("p1", room, joined).await.unwrap();
    store.join_session("p1", room, base).await.unwrap();
    let window = Duration::from_secs(60);
    assert_eq!(
        store.claim_session("p1", BOB, "s2", window).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .claim_session("nope", ALICE, "s2", window)
            .await
            .unwrap(),
        None
    );
    let claimed = store
        .claim_session("p1", ALICE, "s2", window)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.user, claimed.base), (ALICE, base));
    assert_eq!(
        claimed.rooms,
        vec![(room, joined)],
        "a second join keeps the first token"
    );
    store.leave_session("p1", "s1").await.unwrap();
    assert!(
        store
            .claim_session("p1", ALICE, "s3", Duration::ZERO)
            .await
            .unwrap()
            .is_some(),
        "the end of an earlier owner does not end the session"
    );
    store.leave_session("p1", "s3").await.unwrap();
    assert_eq!(
        store
            .claim_session("p1", ALICE, "s4", Duration::ZERO)
            .await
            .unwrap(),
        None,
        "left longer ago than the window"
    );
    assert!(
        store
            .claim_session("p1", ALICE, "s4", window)
            .await
            .unwrap()
            .is_some()
    );
    let day = Duration::from_secs(86_400);
    assert_eq!(
        store.prune_sessions(Duration::ZERO, day).await.unwrap(),
        0,
        "a held session stays"
    );
    store.open_session("p2", BOB, "s9", base).await.unwrap();
    store.leave_session("p1", "s4").await.unwrap();
    assert_eq!(store.prune_sessions(day, day).await.unwrap(), 0);
    assert_eq!(
        store.prune_sessions(Duration::ZERO, day).await.unwrap(),
        1,
        "a session let go past the window goes"
    );
    assert_eq!(
        store
            .claim_session("p1", ALICE, "s5", window)
            .await
            .unwrap(),
        None
    );
    store.join_session("p1", room, joined).await.unwrap();
    assert_eq!(
        store.prune_sessions(day, Duration::ZERO).await.unwrap(),
        1,
        "a session held past the longest hold goes"
    );
}
