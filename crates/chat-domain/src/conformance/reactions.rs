//! Reactions: per-member keys with counts and `me`, idempotent, bounded, replayed in order,
//! gone with their message.

use super::{ALICE, BOB, CAROL, assert_not_found, send, setup_with};
use crate::{
    ChatError, ChatEvent, Entity, Limits, MessageWindow, PageRequest, Policy, Store, StreamScope,
};

/// The rules with at most two reaction keys a message.
fn two_kinds() -> Policy {
    Policy {
        limits: Limits {
            max_reaction_kinds: 2,
            ..Limits::default()
        },
        ..Policy::default()
    }
}

fn seen(reactions: &[crate::Reaction]) -> Vec<(&str, i64, bool)> {
    reactions
        .iter()
        .map(|r| (r.key.as_str(), r.count, r.me))
        .collect()
}

pub async fn reactions_count_per_key_show_me_and_replay_in_order<S: Store>(store: S) {
    let (service, events) = setup_with(store.clone(), two_kinds()).await;
    let start = store.stream_head().await.unwrap();
    let message = service
        .send_message(send(ALICE, BOB, "lunch?"))
        .await
        .unwrap()
        .message;
    events.take();
    let mine = service.react(BOB, message.id, "👍", true).await.unwrap();
    assert_eq!(seen(&mine), [("👍", 1, true)]);
    service.react(BOB, message.id, "👍", true).await.unwrap();
    let after_alice = service.react(ALICE, message.id, "👍", true).await.unwrap();
    assert_eq!(seen(&after_alice), [("👍", 2, true)]);
    service
        .react(ALICE, message.id, "pizza", true)
        .await
        .unwrap();
    assert!(matches!(
        service.react(ALICE, message.id, "taco", true).await,
        Err(ChatError::Conflict(_))
    ));
    assert!(matches!(
        service.react(ALICE, message.id, "Not A Key", true).await,
        Err(ChatError::Invalid { field: "key", .. })
    ));
    assert_not_found(
        service.react(CAROL, message.id, "👍", true).await,
        Entity::Message,
    );
    // Bob's page shows each key's count, and whether he is among them.
    let page = service
        .messages(
            BOB,
            message.conversation_id,
            MessageWindow::Page(PageRequest { page: 1, limit: 5 }),
        )
        .await
        .unwrap();
    assert_eq!(
        seen(&page.messages[0].reactions),
        [("👍", 2, true), ("pizza", 1, false)]
    );
    // Taking back twice changes once.
    service.react(BOB, message.id, "👍", false).await.unwrap();
    let left = service.react(BOB, message.id, "👍", false).await.unwrap();
    assert_eq!(seen(&left), [("👍", 1, false), ("pizza", 1, false)]);
    let announced: Vec<(&'static str, String, i64)> = events
        .take()
        .iter()
        .filter_map(|e| match e {
            ChatEvent::ReactionAdded(r) => Some(("added", r.key.as_str().to_owned(), r.count)),
            ChatEvent::ReactionRemoved(r) => Some(("removed", r.key.as_str().to_owned(), r.count)),
            _ => None,
        })
        .collect();
    let expected = [
        ("added", "👍".to_owned(), 1),
        ("added", "👍".to_owned(), 2),
        ("added", "pizza".to_owned(), 1),
        ("removed", "👍".to_owned(), 1),
    ];
    assert_eq!(announced, expected, "each change once, with its count");
    // The same, replayed.
    let head = store.stream_head().await.unwrap();
    let everything = StreamScope {
        rooms: Vec::new(),
        others: Some(start),
    };
    let replayed: Vec<(&'static str, String, i64)> = store
        .stream_for(ALICE, &everything, head, 100)
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match &e.event {
            ChatEvent::ReactionAdded(r) => Some(("added", r.key.as_str().to_owned(), r.count)),
            ChatEvent::ReactionRemoved(r) => Some(("removed", r.key.as_str().to_owned(), r.count)),
            _ => None,
        })
        .collect();
    assert_eq!(replayed, expected);
    // A key keeps its place while anyone still reacts with it, whoever used it first.
    service.react(BOB, message.id, "👍", true).await.unwrap();
    let order = service.react(ALICE, message.id, "👍", false).await.unwrap();
    assert_eq!(seen(&order), [("👍", 1, false), ("pizza", 1, true)]);
    // A deleted message takes its reactions along.
    service.delete_message(ALICE, message.id).await.unwrap();
    assert_not_found(
        service.react(BOB, message.id, "👍", true).await,
        Entity::Message,
    );
    assert!(
        store
            .reactions_for(ALICE, &[message.id])
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_reactions_count_once_and_keep_the_limit<S: Store>(store: S) {
    let (service, events) = setup_with(store.clone(), two_kinds()).await;
    let message = service
        .send_message(send(ALICE, BOB, "vote"))
        .await
        .unwrap()
        .message;
    events.take();
    // Both members, many times at once, with keys of their own and one shared key.
    let service = &service;
    let mut attempts = Vec::new();
    for key in ["one", "two", "three", "four"] {
        for user in [ALICE, BOB] {
            attempts.push(service.react(user, message.id, key, true));
        }
    }
    for _ in 0..6 {
        attempts.push(service.react(ALICE, message.id, "one", true));
    }
    let answers = super::join_all(attempts).await;
    for answer in &answers {
        assert!(
            matches!(answer, Ok(_) | Err(ChatError::Conflict(_))),
            "a refusal for the limit, nothing else: {answer:?}"
        );
    }
    let page = service
        .messages(
            ALICE,
            message.conversation_id,
            MessageWindow::Page(PageRequest { page: 1, limit: 1 }),
        )
        .await
        .unwrap();
    let reactions = &page.messages[0].reactions;
    assert!(reactions.len() <= 2, "at most two keys: {reactions:?}");
    let added = events
        .take()
        .iter()
        .filter(|e| matches!(e, ChatEvent::ReactionAdded(_)))
        .count();
    let counted: i64 = reactions.iter().map(|r| r.count).sum();
    assert_eq!(
        i64::try_from(added).unwrap(),
        counted,
        "one event per reaction stored"
    );
    // Many removals of one reaction at once: one event.
    let key = reactions[0].key.as_str().to_owned();
    let removals = (0..8).map(|_| service.react(ALICE, message.id, &key, false));
    for answer in super::join_all(removals).await {
        answer.unwrap();
    }
    let removed = events
        .take()
        .iter()
        .filter(|e| matches!(e, ChatEvent::ReactionRemoved(_)))
        .count();
    assert!(removed <= 1, "{removed} events for one removal");
}
