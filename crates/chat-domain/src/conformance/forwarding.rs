//! Forwarding: copies of a visible message into conversations the caller belongs to, each a
//! send of its own naming the original; every refusal is decided before anything is written.

use super::{ALICE, BOB, CAROL, assert_not_found, send, setup, setup_with};
use crate::{
    ChatError, ChatEvent, ConversationId, Entity, ForwardedFrom, MessageId, Policy, SendRate, Store,
};

pub async fn a_forward_copies_a_visible_message_and_names_the_original<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let original = service
        .send_message(send(ALICE, BOB, "the plan"))
        .await
        .unwrap()
        .message;
    let with_carol = service
        .send_message(send(BOB, CAROL, "hi carol"))
        .await
        .unwrap()
        .message
        .conversation_id;
    events.take();
    let copies = service
        .forward(BOB, original.id, &[with_carol])
        .await
        .unwrap();
    let origin = ForwardedFrom {
        message_id: original.id,
        conversation_id: original.conversation_id,
        sender_id: ALICE,
    };
    let [copy] = &copies[..] else {
        panic!("one copy, got {copies:?}");
    };
    assert!(!copy.replayed);
    let message = &copy.message;
    assert_eq!(
        (
            message.conversation_id,
            message.sender_id,
            message.content.as_str()
        ),
        (with_carol, BOB, "the plan")
    );
    assert_eq!(message.forwarded_from, Some(origin));
    match &events.take()[..] {
        [ChatEvent::MessageSent(sent)] => assert_eq!(sent.message.forwarded_from, Some(origin)),
        other => panic!("one new message, got {other:?}"),
    }
    // Carol reads the copy with its origin; a forward of the copy still names the original.
    let seen = service
        .messages(
            CAROL,
            with_carol,
            crate::MessageWindow::Page(crate::PageRequest { page: 1, limit: 1 }),
        )
        .await
        .unwrap();
    assert_eq!(seen.messages[0].forwarded_from, Some(origin));
    let again = service
        .forward(CAROL, message.id, &[with_carol])
        .await
        .unwrap();
    assert_eq!(again[0].message.forwarded_from, Some(origin));
    assert_eq!(again[0].message.seq.get(), message.seq.get() + 1);
}

pub async fn a_refused_forward_writes_nothing<S: Store>(store: S) {
    // A burst of three sends, regained far slower than the test runs.
    let policy = Policy {
        send_rate: SendRate {
            per_second: 0.001,
            burst: 3,
        },
        ..Policy::default()
    };
    let (service, events) = setup_with(store.clone(), policy).await;
    let original = service
        .send_message(send(ALICE, BOB, "short"))
        .await
        .unwrap()
        .message;
    let with_carol = service
        .send_message(send(BOB, CAROL, "hi carol"))
        .await
        .unwrap()
        .message
        .conversation_id;
    service
        .send_message(send(BOB, ALICE, "got it"))
        .await
        .unwrap();
    events.take();
    let head = store.stream_head().await.unwrap();
    // Carol cannot see Alice and Bob's message; Alice does not belong to Bob and Carol's
    // conversation (nor to one that does not exist), even after a target she may use.
    assert_not_found(
        service.forward(CAROL, original.id, &[with_carol]).await,
        Entity::Message,
    );
    for targets in [
        vec![with_carol],
        vec![original.conversation_id, with_carol],
        vec![original.conversation_id, ConversationId(i64::MAX)],
    ] {
        assert_not_found(
            service.forward(ALICE, original.id, &targets).await,
            Entity::Conversation,
        );
    }
    assert_not_found(
        service
            .forward(ALICE, MessageId(i64::MAX), &[original.conversation_id])
            .await,
        Entity::Message,
    );
    // Bob has one send left of a burst of three: two copies are refused as one.
    assert!(
        matches!(
            service
                .forward(BOB, original.id, &[original.conversation_id, with_carol])
                .await,
            Err(ChatError::RateLimited { .. })
        ),
        "two copies beyond the one send left"
    );
    assert!(matches!(
        service
            .forward(BOB, original.id, &[original.conversation_id; 4])
            .await,
        Err(ChatError::Invalid {
            field: "conversationIds",
            ..
        })
    ));
    assert!(events.take().is_empty());
    assert_eq!(store.stream_head().await.unwrap(), head);
    // The one send left still goes.
    let copies = service
        .forward(BOB, original.id, &[with_carol])
        .await
        .unwrap();
    assert_eq!(copies.len(), 1);
}
