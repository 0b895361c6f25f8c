//! Pins: who may pin where, idempotence, the limit, the list, the stream, and a deletion
//! taking its pin along.

use super::groups::{post, team};
use super::{ALICE, BOB, CAROL, assert_not_found, say, send, setup, setup_with};
use crate::{ChatError, ChatEvent, Entity, GroupChange, Limits, Policy, Role, Store, StreamScope};

pub async fn members_pin_in_a_direct_conversation_and_managers_in_a_group<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let direct = say(&service, ALICE, BOB, "remember this").await;
    let first = service
        .messages(
            BOB,
            direct,
            crate::MessageWindow::Page(crate::PageRequest { page: 1, limit: 1 }),
        )
        .await
        .unwrap()
        .messages[0]
        .clone();
    events.take();
    // Either member of a direct conversation pins; a second pin changes nothing.
    service.set_pin(BOB, direct, first.id, true).await.unwrap();
    service
        .set_pin(ALICE, direct, first.id, true)
        .await
        .unwrap();
    match &events.take()[..] {
        [ChatEvent::MessagePinned(pin)] => {
            assert_eq!(
                (pin.message_id, pin.seq, pin.by),
                (first.id, first.seq, BOB)
            );
        }
        other => panic!("one message_pinned, got {other:?}"),
    }
    let (_, pins) = service.pins(ALICE, direct).await.unwrap();
    assert_eq!(pins.len(), 1);
    assert_eq!((pins[0].message.id, pins[0].pinned_by), (first.id, BOB));
    // A stranger sees and changes nothing.
    assert_not_found(service.pins(CAROL, direct).await, Entity::Conversation);
    assert_not_found(
        service.set_pin(CAROL, direct, first.id, false).await,
        Entity::Conversation,
    );

    // In a group a plain member may not; the owner may; a message of another conversation is
    // not found there.
    let group = team(&service, &[BOB, CAROL]).await;
    let posted = service
        .send_message(post(CAROL, group, "agenda"))
        .await
        .unwrap()
        .message;
    events.take();
    assert!(matches!(
        service.set_pin(CAROL, group, posted.id, true).await,
        Err(ChatError::Forbidden(_))
    ));
    assert_not_found(
        service.set_pin(ALICE, group, first.id, true).await,
        Entity::Message,
    );
    assert!(events.take().is_empty(), "refusals announce nothing");
    service
        .change_group(ALICE, group, GroupChange::SetRole(BOB, Role::Admin))
        .await
        .unwrap();
    service.set_pin(BOB, group, posted.id, true).await.unwrap();
    service
        .set_pin(ALICE, group, posted.id, false)
        .await
        .unwrap();
    service
        .set_pin(ALICE, group, posted.id, false)
        .await
        .unwrap();
    let kinds: Vec<&str> = events
        .take()
        .iter()
        .filter_map(|e| match e {
            ChatEvent::MessagePinned(_) => Some("pinned"),
            ChatEvent::MessageUnpinned(_) => Some("unpinned"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["pinned", "unpinned"]);
    assert!(service.pins(CAROL, group).await.unwrap().1.is_empty());
}

pub async fn pins_are_bounded_replayed_in_order_and_go_with_their_message<S: Store>(store: S) {
    let policy = Policy {
        limits: Limits {
            max_pins: 2,
            ..Limits::default()
        },
        ..Policy::default()
    };
    let (service, events) = setup_with(store.clone(), policy).await;
    let start = store.stream_head().await.unwrap();
    let mut sent = Vec::new();
    for text in ["a", "b", "c"] {
        sent.push(
            service
                .send_message(send(ALICE, BOB, text))
                .await
                .unwrap()
                .message,
        );
    }
    let conversation = sent[0].conversation_id;
    service
        .set_pin(ALICE, conversation, sent[0].id, true)
        .await
        .unwrap();
    service
        .set_pin(ALICE, conversation, sent[1].id, true)
        .await
        .unwrap();
    assert!(matches!(
        service.set_pin(ALICE, conversation, sent[2].id, true).await,
        Err(ChatError::Conflict(_))
    ));
    // The latest pin first.
    let (_, pins) = service.pins(BOB, conversation).await.unwrap();
    let listed: Vec<_> = pins.iter().map(|p| p.message.id).collect();
    assert_eq!(listed, [sent[1].id, sent[0].id]);
    // A deleted message takes its pin along, which frees a place.
    service.delete_message(ALICE, sent[1].id).await.unwrap();
    let (_, pins) = service.pins(BOB, conversation).await.unwrap();
    assert_eq!(
        pins.iter().map(|p| p.message.id).collect::<Vec<_>>(),
        [sent[0].id]
    );
    service
        .set_pin(ALICE, conversation, sent[2].id, true)
        .await
        .unwrap();
    events.take();
    // Replay: every pin in order, with the message it names.
    let head = store.stream_head().await.unwrap();
    let everything = StreamScope {
        rooms: Vec::new(),
        others: Some(start),
    };
    let replayed: Vec<_> = store
        .stream_for(BOB, &everything, head, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            ChatEvent::MessagePinned(pin) => Some(pin.message_id),
            _ => None,
        })
        .collect();
    assert_eq!(replayed, [sent[0].id, sent[1].id, sent[2].id]);
}
