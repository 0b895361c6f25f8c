//! Sending: first contact, pair conversations, refusals, events, concurrency and the rate.

// Test bodies: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use super::*;

pub async fn send_creates_the_direct_conversation_on_first_contact<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let sent = service.send_message(send(ALICE, BOB, "hi")).await.unwrap();
    assert_eq!(sent.message.seq, Seq(1));
    assert_eq!(sent.message.sender_id, ALICE);
    let ids: Vec<UserId> = sent
        .conversation
        .members
        .iter()
        .map(|m| m.user.id)
        .collect();
    assert_eq!(ids, vec![ALICE, BOB]);
    assert_eq!(sent.conversation.member(BOB).unwrap().user.username, "bob");
    let list = service.conversations(BOB, page(1, 20)).await.unwrap();
    assert_eq!(list.total, 1);
    assert_eq!(
        list.items[0].conversation.last_message.as_deref(),
        Some("hi")
    );
    assert_eq!(list.items[0].conversation.message_count, 1);
}

pub async fn both_directions_share_one_conversation<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let first = say(&service, ALICE, BOB, "a").await;
    let second = say(&service, BOB, ALICE, "b").await;
    assert_eq!(first, second);
    let between = service.conversation_between(BOB, ALICE).await.unwrap();
    assert_eq!(between.conversation.id, first);
    assert_eq!(between.conversation.last_seq, Seq(2));
}

pub async fn send_to_unknown_receiver_is_not_found_and_writes_nothing<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    assert_not_found(
        service.send_message(send(ALICE, UserId(999), "x")).await,
        Entity::User,
    );
    assert_not_found(
        service.conversation_between(ALICE, UserId(999)).await,
        Entity::User,
    );
    assert_eq!(
        service
            .conversations(ALICE, page(1, 20))
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn send_to_self_is_invalid<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    match service.send_message(send(ALICE, ALICE, "me")).await {
        Err(ChatError::Invalid { field, .. }) => assert_eq!(field, "receiverId"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(
        service
            .conversations(ALICE, page(1, 20))
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn a_retried_send_is_answered_and_a_reused_id_is_a_conflict<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let mut cmd = send(ALICE, BOB, "once");
    cmd.client_message_id = Some(crate::ClientMessageId::parse("c-1").unwrap());
    let first = service.send_message(cmd.clone()).await.unwrap();
    assert_eq!(first.message.client_message_id.as_deref(), Some("c-1"));
    assert!(!first.replayed);
    assert_eq!(events.take().len(), 1);
    let again = service.send_message(cmd.clone()).await.unwrap();
    assert!(again.replayed, "the same send again is a retry");
    assert_eq!(
        again.message, first.message,
        "answered with the stored message"
    );
    assert!(events.take().is_empty(), "a retry announces nothing");
    let mut changed = cmd.clone();
    changed.content = MessageBody::parse("other", &Limits::default()).unwrap();
    let reused = service.send_message(changed).await;
    assert!(matches!(reused, Err(ChatError::Conflict(_))), "{reused:?}");
    cmd.sender = BOB;
    cmd.to = crate::Recipient::User(ALICE);
    service.send_message(cmd).await.unwrap();
    let history = service
        .messages(
            ALICE,
            first.message.conversation_id,
            MessageWindow::Page(page(1, 50)),
        )
        .await
        .unwrap();
    assert_eq!(history.total, 2);
    let seqs: Vec<Seq> = history.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![Seq(2), Seq(1)], "a refused send consumes no seq");
}

pub async fn events_follow_committed_writes<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let sent = service
        .send_message(send(ALICE, BOB, "hello"))
        .await
        .unwrap();
    match &events.take()[..] {
        [ChatEvent::MessageSent(e)] => {
            assert_eq!(e.message, sent.message);
            let members: Vec<UserId> = e.members.iter().map(|m| m.id).collect();
            assert_eq!(members, vec![ALICE, BOB]);
        }
        other => panic!("expected one MessageSent, got {other:?}"),
    }
    assert!(
        service
            .send_message(send(ALICE, UserId(404), "x"))
            .await
            .is_err()
    );
    assert!(events.take().is_empty());
}

pub async fn concurrent_first_sends_create_one_conversation<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    for round in 0..5 {
        let (a, b) = (UserId(100 + 2 * round), UserId(101 + 2 * round));
        for id in [a, b] {
            let name = Username::parse(format!("u{}", id.0)).unwrap();
            let user = UpsertUser {
                id,
                username: name,
                display_name: None,
                avatar_url: None,
            };
            service.upsert_user(user).await.unwrap();
        }
        let sends = [(a, b), (b, a), (a, b), (b, a)]
            .map(|(from, to)| service.send_message(send(from, to, "first")));
        let sent: Vec<_> = join_all(sends)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let id = sent[0].message.conversation_id;
        assert!(sent.iter().all(|s| s.message.conversation_id == id));
        assert_eq!(
            service.conversations(a, page(1, 20)).await.unwrap().total,
            1
        );
        assert_eq!(
            service.conversations(b, page(1, 20)).await.unwrap().total,
            1
        );
    }
}

pub async fn concurrent_sends_get_distinct_gapless_seqs<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let id = say(&service, ALICE, BOB, "0").await;
    let sends = (1..=50).map(|i| {
        let (from, to) = if i % 2 == 0 {
            (ALICE, BOB)
        } else {
            (BOB, ALICE)
        };
        service.send_message(send(from, to, &format!("c{i}")))
    });
    let mut seqs: Vec<i64> = join_all(sends)
        .await
        .into_iter()
        .map(|r| r.unwrap().message.seq.0)
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=51).collect::<Vec<_>>());
    let view = service
        .messages(ALICE, id, MessageWindow::Page(page(1, 100)))
        .await
        .unwrap();
    assert_eq!(view.total, 51);
    assert_eq!(view.conversation.conversation.last_seq, Seq(51));
}

pub async fn sends_beyond_the_rate_are_refused_without_writing<S: Store>(store: S) {
    let rate = crate::SendRate {
        per_second: 0.001,
        burst: 3,
    };
    let (service, _) = setup_with(
        store,
        Policy {
            send_rate: rate,
            ..Policy::default()
        },
    )
    .await;
    let id = say(&service, ALICE, BOB, "1").await;
    say(&service, ALICE, BOB, "2").await;
    say(&service, ALICE, BOB, "3").await;
    match service.send_message(send(ALICE, BOB, "4")).await {
        Err(ChatError::RateLimited { retry_after }) => assert!(retry_after.as_secs() >= 1),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    say(&service, BOB, ALICE, "bob has his own allowance").await;
    let view = service
        .messages(ALICE, id, MessageWindow::Page(page(1, 50)))
        .await
        .unwrap();
    assert_eq!(view.total, 4);
}
