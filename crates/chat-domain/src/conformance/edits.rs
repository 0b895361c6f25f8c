//! Editing messages: the sender only, within the window, every version kept, each edit in
//! the stream with its own text, nothing of a deleted message's text left behind.

use std::time::Duration;

use super::{ALICE, BOB, CAROL, assert_not_found, say, send, setup, setup_with};
use crate::{
    ChatError, ChatEvent, Entity, Limits, MessageWindow, PageRequest, Policy, Store, StreamScope,
};

fn texts(versions: &[crate::MessageVersion]) -> Vec<(i32, &str)> {
    versions
        .iter()
        .map(|v| (v.version, v.content.as_str()))
        .collect()
}

pub async fn an_edit_replaces_the_text_keeps_every_version_and_is_announced<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let first = service
        .send_message(send(ALICE, BOB, "helo"))
        .await
        .unwrap()
        .message;
    events.take();
    let (conversation, edited) = service
        .edit_message(ALICE, first.id, "hello".into())
        .await
        .unwrap();
    assert_eq!(edited.content, "hello");
    assert_eq!((edited.id, edited.seq), (first.id, first.seq));
    let edited_at = edited.edited_at.expect("an edited message says when");
    assert!(edited_at >= first.created_at);
    assert_eq!(
        conversation.conversation.last_message.as_deref(),
        Some("hello")
    );
    match &events.take()[..] {
        [ChatEvent::MessageEdited(e)] => {
            assert_eq!(
                (e.message.id, e.message.content.as_str()),
                (first.id, "hello")
            );
            let mut members: Vec<_> = e.members.iter().map(|m| m.id).collect();
            members.sort();
            assert_eq!(members, [ALICE, BOB]);
        }
        other => panic!("one message_edited, got {other:?}"),
    }
    // Both members see the new text and its history; a stranger sees neither.
    let page = service
        .messages(
            BOB,
            first.conversation_id,
            MessageWindow::Page(PageRequest { page: 1, limit: 10 }),
        )
        .await
        .unwrap();
    assert_eq!(page.messages[0].content, "hello");
    assert_eq!(page.messages[0].edited_at, Some(edited_at));
    service
        .edit_message(ALICE, first.id, "hello!".into())
        .await
        .unwrap();
    let history = service.message_history(BOB, first.id).await.unwrap();
    assert_eq!(texts(&history), [(1, "helo"), (2, "hello"), (3, "hello!")]);
    assert_eq!(history[0].written_at, first.created_at);
    assert_not_found(
        service.message_history(CAROL, first.id).await,
        Entity::Message,
    );
    // A newer message keeps the preview when an older one is edited.
    say(&service, BOB, ALICE, "newest").await;
    let (conversation, _) = service
        .edit_message(ALICE, first.id, "hello!!".into())
        .await
        .unwrap();
    assert_eq!(
        conversation.conversation.last_message.as_deref(),
        Some("newest")
    );
}

pub async fn only_the_sender_edits_within_the_window_and_refusals_write_nothing<S: Store>(
    store: S,
) {
    let (service, events) = setup(store.clone()).await;
    let first = service
        .send_message(send(ALICE, BOB, "mine"))
        .await
        .unwrap()
        .message;
    events.take();
    assert_not_found(
        service.edit_message(BOB, first.id, "theirs".into()).await,
        Entity::Message,
    );
    assert_not_found(
        service
            .edit_message(CAROL, first.id, "stranger".into())
            .await,
        Entity::Message,
    );
    assert!(matches!(
        service.edit_message(ALICE, first.id, "  ".into()).await,
        Err(ChatError::Invalid {
            field: "content",
            ..
        })
    ));
    // The same text again changes nothing and tells nobody.
    let (_, same) = service
        .edit_message(ALICE, first.id, "mine".into())
        .await
        .unwrap();
    assert_eq!((same.content.as_str(), same.edited_at), ("mine", None));
    assert!(
        events.take().is_empty(),
        "refusals and no-ops announce nothing"
    );

    // With a window of zero every edit comes too late: 409, and nothing changes.
    let closed = Policy {
        limits: Limits {
            edit_window: Some(Duration::ZERO),
            ..Limits::default()
        },
        ..Policy::default()
    };
    let (strict, strict_events) = setup_with(store, closed).await;
    assert!(matches!(
        strict
            .edit_message(ALICE, first.id, "too late".into())
            .await,
        Err(ChatError::Conflict(_))
    ));
    assert!(strict_events.take().is_empty());
    let history = strict.message_history(ALICE, first.id).await.unwrap();
    assert_eq!(texts(&history), [(1, "mine")]);

    // A deleted message is edited by nobody, and its history is gone with it.
    service
        .edit_message(ALICE, first.id, "edited".into())
        .await
        .unwrap();
    service.delete_message(ALICE, first.id).await.unwrap();
    assert_not_found(
        service.edit_message(ALICE, first.id, "again".into()).await,
        Entity::Message,
    );
    assert_not_found(
        service.message_history(ALICE, first.id).await,
        Entity::Message,
    );
}

pub async fn each_edit_replays_with_its_own_text_and_a_deletion_takes_the_text_along<S: Store>(
    store: S,
) {
    let (service, events) = setup(store.clone()).await;
    let start = store.stream_head().await.unwrap();
    let kept = service
        .send_message(send(ALICE, BOB, "v1"))
        .await
        .unwrap()
        .message;
    service
        .edit_message(ALICE, kept.id, "v2".into())
        .await
        .unwrap();
    service
        .edit_message(ALICE, kept.id, "v3".into())
        .await
        .unwrap();
    let doomed = service
        .send_message(send(ALICE, BOB, "secret 1"))
        .await
        .unwrap()
        .message;
    service
        .edit_message(ALICE, doomed.id, "secret 2".into())
        .await
        .unwrap();
    service.delete_message(ALICE, doomed.id).await.unwrap();
    events.take();
    let head = store.stream_head().await.unwrap();
    let everything = StreamScope {
        rooms: Vec::new(),
        others: Some(start),
    };
    let replayed = store.stream_for(BOB, &everything, head, 100).await.unwrap();
    let edits: Vec<(crate::MessageId, String)> = replayed
        .iter()
        .filter_map(|e| match &e.event {
            ChatEvent::MessageEdited(edited) => {
                Some((edited.message.id, edited.message.content.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        edits,
        [(kept.id, "v2".to_owned()), (kept.id, "v3".to_owned())],
        "each edit as it was; nothing of the deleted message"
    );
    assert!(
        replayed.iter().all(|e| match &e.event {
            ChatEvent::MessageSent(sent) => !sent.message.content.contains("secret"),
            _ => true,
        }),
        "{replayed:?}"
    );
    // The message as it was sent, its edits after it: a client applying them in order never
    // shows an older text after a newer one.
    let sent: Vec<(&str, bool)> = replayed
        .iter()
        .filter_map(|e| match &e.event {
            ChatEvent::MessageSent(sent) if sent.message.id == kept.id => Some((
                sent.message.content.as_str(),
                sent.message.edited_at.is_none(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [("v1", true)]);
    assert!(
        replayed
            .iter()
            .any(|e| matches!(&e.event, ChatEvent::MessageDeleted(d) if d.message_id == doomed.id))
    );
}
