//! Replies and threads: a reply names a visible message of its own conversation, shows it as
//! its parent (deleted or edited as it is now, in pages and replays alike), and a parent
//! counts and pages its visible replies.

use super::{ALICE, BOB, CAROL, assert_not_found, send, setup};
use crate::{
    ChatError, ChatEvent, Entity, Message, MessageId, MessageWindow, PageRequest, SendMessage, Seq,
    Store, StreamScope, UserId,
};

fn reply(from: UserId, to: UserId, text: &str, parent: MessageId) -> SendMessage {
    SendMessage {
        reply_to: Some(parent),
        ..send(from, to, text)
    }
}

fn page(limit: u32) -> MessageWindow {
    MessageWindow::Page(PageRequest { page: 1, limit })
}

/// A parent as a reply shows it: its id and excerpt.
type Quoted<'a> = Option<(MessageId, Option<&'a str>)>;

/// Each message's text with its parent, if it replies, and its reply count.
fn shown(messages: &[Message]) -> Vec<(&str, Quoted<'_>, i64)> {
    messages
        .iter()
        .map(|m| {
            let parent = m.reply_to.as_ref().map(|p| (p.id, p.excerpt.as_deref()));
            (m.content.as_str(), parent, m.reply_count)
        })
        .collect()
}

pub async fn replies_show_their_parent_count_on_it_and_page_as_a_thread<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let parent = service
        .send_message(send(ALICE, BOB, "lunch at noon?"))
        .await
        .unwrap()
        .message;
    events.take();
    let first = service
        .send_message(reply(BOB, ALICE, "yes", parent.id))
        .await
        .unwrap()
        .message;
    let answer = first.reply_to.as_ref().expect("a reply shows its parent");
    assert_eq!(
        (answer.id, answer.sender.id, answer.excerpt.as_deref()),
        (parent.id, ALICE, Some("lunch at noon?"))
    );
    assert_eq!(answer.sender.username, "alice");
    match &events.take()[..] {
        [ChatEvent::MessageSent(sent)] => {
            assert_eq!(sent.message.reply_to.as_ref(), Some(answer));
        }
        other => panic!("one new message, got {other:?}"),
    }
    service
        .send_message(send(ALICE, BOB, "not a reply"))
        .await
        .unwrap();
    service
        .send_message(reply(ALICE, BOB, "great", parent.id))
        .await
        .unwrap();
    let history = service
        .messages(BOB, parent.conversation_id, page(10))
        .await
        .unwrap();
    let quoted = Some((parent.id, Some("lunch at noon?")));
    assert_eq!(
        shown(&history.messages),
        [
            ("great", quoted, 0),
            ("not a reply", None, 0),
            ("yes", quoted, 0),
            ("lunch at noon?", None, 2),
        ]
    );
    // The thread pages like history: newest first, by cursor both ways, with its size.
    let thread = service.replies(BOB, parent.id, page(10)).await.unwrap();
    assert_eq!(thread.total, 2);
    let texts = |m: &[Message]| m.iter().map(|m| m.content.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&thread.messages), ["great", "yes"]);
    let older = service
        .replies(
            BOB,
            parent.id,
            MessageWindow::Before {
                seq: thread.messages[0].seq,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(texts(&older.messages), ["yes"]);
    let newer = service
        .replies(
            ALICE,
            parent.id,
            MessageWindow::After {
                seq: Seq::ZERO,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(texts(&newer.messages), ["yes"]);
    assert_not_found(
        service.replies(CAROL, parent.id, page(10)).await,
        Entity::Message,
    );
    assert_not_found(
        service.replies(BOB, MessageId(i64::MAX), page(10)).await,
        Entity::Message,
    );
}

pub async fn a_reply_stays_in_its_conversation_and_refusals_write_nothing<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let elsewhere = service
        .send_message(send(ALICE, BOB, "between alice and bob"))
        .await
        .unwrap()
        .message;
    let ours = service
        .send_message(send(CAROL, ALICE, "hi alice"))
        .await
        .unwrap()
        .message;
    events.take();
    let head = store.stream_head().await.unwrap();
    for parent in [elsewhere.id, MessageId(i64::MAX)] {
        assert!(matches!(
            service
                .send_message(reply(ALICE, CAROL, "leak?", parent))
                .await,
            Err(ChatError::Invalid {
                field: "replyToId",
                ..
            })
        ));
    }
    assert!(events.take().is_empty());
    assert_eq!(store.stream_head().await.unwrap(), head);
    let history = service
        .messages(CAROL, ours.conversation_id, page(10))
        .await
        .unwrap();
    assert_eq!(history.total, 1);
    // A retry names the same parent; the same client id with another parent is a conflict.
    let with_id = |parent| SendMessage {
        client_message_id: Some(crate::ClientMessageId::parse("r-1".to_owned()).unwrap()),
        ..reply(ALICE, CAROL, "sure", parent)
    };
    let sent = service.send_message(with_id(ours.id)).await.unwrap();
    let again = service.send_message(with_id(ours.id)).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.message.reply_to, sent.message.reply_to);
    let other = service
        .send_message(send(CAROL, ALICE, "another"))
        .await
        .unwrap()
        .message;
    assert!(matches!(
        service.send_message(with_id(other.id)).await,
        Err(ChatError::Conflict(_))
    ));
}

pub async fn a_deleted_parent_shows_as_deleted_and_keeps_its_thread<S: Store>(store: S) {
    let (service, events) = setup(store.clone()).await;
    let start = store.stream_head().await.unwrap();
    let parent = service
        .send_message(send(ALICE, BOB, "typo"))
        .await
        .unwrap()
        .message;
    service
        .edit_message(ALICE, parent.id, "fixed".into())
        .await
        .unwrap();
    let kept_once = || SendMessage {
        client_message_id: Some(crate::ClientMessageId::parse("kept-1".to_owned()).unwrap()),
        ..reply(BOB, ALICE, "kept", parent.id)
    };
    let kept = service.send_message(kept_once()).await.unwrap().message;
    let gone = service
        .send_message(reply(BOB, ALICE, "gone", parent.id))
        .await
        .unwrap()
        .message;
    // An edited parent shows its text of now.
    assert_eq!(
        kept.reply_to.and_then(|p| p.excerpt).as_deref(),
        Some("fixed")
    );
    service.delete_message(BOB, gone.id).await.unwrap();
    service.delete_message(ALICE, parent.id).await.unwrap();
    events.take();
    let history = service
        .messages(ALICE, parent.conversation_id, page(10))
        .await
        .unwrap();
    assert_eq!(
        shown(&history.messages),
        [("kept", Some((parent.id, None)), 0)]
    );
    let thread = service.replies(ALICE, parent.id, page(10)).await.unwrap();
    assert_eq!(thread.total, 1);
    assert_eq!(
        shown(&thread.messages),
        [("kept", Some((parent.id, None)), 0)]
    );
    // A reply to a deleted parent shows it as deleted; a retry of a reply sent before the
    // parent's deletion is answered with the stored reply.
    let late = service
        .send_message(reply(ALICE, BOB, "to the void", parent.id))
        .await
        .unwrap()
        .message;
    assert_eq!(
        late.reply_to.map(|p| (p.id, p.excerpt)),
        Some((parent.id, None))
    );
    let again = service.send_message(kept_once()).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.message.reply_to.and_then(|p| p.excerpt), None);
    // A replay shows the parent as it is now: deleted, never its text.
    let head = store.stream_head().await.unwrap();
    let everything = StreamScope {
        rooms: Vec::new(),
        others: Some(start),
    };
    let replayed = store.stream_for(BOB, &everything, head, 100).await.unwrap();
    let sent: Vec<&Message> = replayed
        .iter()
        .filter_map(|e| match &e.event {
            ChatEvent::MessageSent(sent) => Some(&sent.message),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 2, "the kept reply and the late one");
    for reply in sent {
        let parent_now = reply
            .reply_to
            .as_ref()
            .expect("the replay shows the parent");
        assert_eq!(
            (
                parent_now.id,
                parent_now.sender.id,
                parent_now.excerpt.as_deref()
            ),
            (parent.id, ALICE, None)
        );
    }
}
