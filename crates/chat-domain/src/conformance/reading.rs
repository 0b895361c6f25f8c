//! Reading: unread counts, watermarks and isolation from third users.

// Test bodies: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use super::*;

pub async fn unread_counts_follow_the_read_watermark<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let with_alice = say(&service, ALICE, BOB, "1").await;
    say(&service, ALICE, BOB, "2").await;
    let with_carol = say(&service, CAROL, BOB, "3").await;
    assert_eq!(service.unread_count(BOB).await.unwrap(), 3);
    assert_eq!(service.unread_count(ALICE).await.unwrap(), 0);
    let mut per = service.unread_by_conversation(BOB).await.unwrap();
    per.sort_by_key(|u| u.conversation_id);
    let per: Vec<(ConversationId, i64)> = per
        .iter()
        .map(|u| (u.conversation_id, u.unread_count))
        .collect();
    assert_eq!(per, vec![(with_alice, 2), (with_carol, 1)]);
    let receipt = service.mark_read(BOB, with_alice).await.unwrap();
    assert_eq!((receipt.updated, receipt.last_read_seq), (2, Seq(2)));
    assert!(
        events
            .take()
            .iter()
            .any(|e| matches!(e, ChatEvent::MessagesRead(r) if r.user_id == BOB))
    );
    assert_eq!(service.unread_count(BOB).await.unwrap(), 1);
    assert_eq!(service.mark_read(BOB, with_alice).await.unwrap().updated, 0);
    let history = service
        .messages(ALICE, with_alice, MessageWindow::Page(page(1, 50)))
        .await
        .unwrap();
    let (read, read_at) = history.conversation.read_state(&history.messages[0]);
    assert!(read && read_at.is_some());
    let unread = service.unread_by_conversation(BOB).await.unwrap();
    assert_eq!(unread.len(), 1);
    assert_eq!(unread[0].conversation_id, with_carol);
}

pub async fn own_send_moves_own_watermark<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let id = say(&service, ALICE, BOB, "question").await;
    assert_eq!(service.unread_count(BOB).await.unwrap(), 1);
    say(&service, BOB, ALICE, "answer").await;
    assert_eq!(
        service.unread_count(BOB).await.unwrap(),
        0,
        "replying reads the thread"
    );
    assert_eq!(service.unread_count(ALICE).await.unwrap(), 1);
    let view = service
        .messages(ALICE, id, MessageWindow::Page(page(1, 50)))
        .await
        .unwrap();
    let states: Vec<bool> = view
        .messages
        .iter()
        .map(|m| view.conversation.read_state(m).0)
        .collect();
    assert_eq!(
        states,
        vec![false, true],
        "bob's answer unread, alice's question read"
    );
}

pub async fn third_user_sees_nothing_of_others_conversation<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let sent = service
        .send_message(send(ALICE, BOB, "private"))
        .await
        .unwrap();
    let id = sent.message.conversation_id;
    events.take();
    let window = MessageWindow::Page(page(1, 50));
    let query = SearchQuery::parse("private", &Limits::default()).unwrap();
    assert_not_found(
        service.messages(CAROL, id, window).await,
        Entity::Conversation,
    );
    assert_not_found(
        service.search(CAROL, id, &query, page(1, 20)).await,
        Entity::Conversation,
    );
    assert_not_found(service.mark_read(CAROL, id).await, Entity::Conversation);
    assert_not_found(
        service.delete_message(CAROL, sent.message.id).await,
        Entity::Message,
    );
    let missing = ConversationId(id.0 + 1000);
    assert_not_found(
        service.messages(CAROL, missing, window).await,
        Entity::Conversation,
    );
    assert_eq!(
        service
            .conversations(CAROL, page(1, 20))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(service.unread_count(CAROL).await.unwrap(), 0);
    assert!(
        service
            .unread_by_conversation(CAROL)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        events.take().is_empty(),
        "refused operations announce nothing"
    );
    assert_eq!(
        service.unread_count(BOB).await.unwrap(),
        1,
        "nothing was marked read"
    );
}
