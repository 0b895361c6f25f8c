//! History: pages, cursors, conversation lists, search and soft delete.

// Test bodies: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use super::*;

pub async fn pages_show_every_message_once_newest_first<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let mut id = None;
    for i in 1..=25 {
        id = Some(say(&service, ALICE, BOB, &format!("m{i}")).await);
    }
    let id = id.unwrap();
    let mut seen = Vec::new();
    for p in 1..=3 {
        let got = service
            .messages(BOB, id, MessageWindow::Page(page(p, 10)))
            .await
            .unwrap();
        assert_eq!(got.total, 25);
        seen.extend(contents(&got.messages));
    }
    let expected: Vec<String> = (1..=25).rev().map(|i| format!("m{i}")).collect();
    assert_eq!(seen, expected);
    let beyond = service
        .messages(BOB, id, MessageWindow::Page(page(4, 10)))
        .await
        .unwrap();
    assert!(beyond.messages.is_empty());
}

pub async fn cursors_page_deep_history<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let mut id = None;
    for i in 1..=12 {
        id = Some(say(&service, BOB, ALICE, &format!("m{i}")).await);
    }
    let id = id.unwrap();
    let before = MessageWindow::Before {
        seq: Seq(6),
        limit: 3,
    };
    let got = service.messages(ALICE, id, before).await.unwrap();
    assert_eq!(contents(&got.messages), ["m5", "m4", "m3"]);
    let after = MessageWindow::After {
        seq: Seq(9),
        limit: 2,
    };
    let got = service.messages(ALICE, id, after).await.unwrap();
    assert_eq!(contents(&got.messages), ["m11", "m10"]);
    let tail = MessageWindow::After {
        seq: Seq(12),
        limit: 5,
    };
    assert!(
        service
            .messages(ALICE, id, tail)
            .await
            .unwrap()
            .messages
            .is_empty()
    );
}

pub async fn conversations_are_listed_by_newest_activity<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let with_bob = say(&service, ALICE, BOB, "to bob").await;
    let with_carol = say(&service, ALICE, CAROL, "to carol").await;
    let order = |list: crate::Paged<crate::ConversationDetail>| {
        list.items
            .iter()
            .map(|c| c.conversation.id)
            .collect::<Vec<_>>()
    };
    let list = service.conversations(ALICE, page(1, 20)).await.unwrap();
    assert_eq!(list.total, 2);
    assert_eq!(order(list), vec![with_carol, with_bob]);
    say(&service, BOB, ALICE, "bob again").await;
    let list = service.conversations(ALICE, page(1, 20)).await.unwrap();
    assert_eq!(order(list), vec![with_bob, with_carol]);
    let second = service.conversations(ALICE, page(2, 1)).await.unwrap();
    assert_eq!((second.total, order(second)), (2, vec![with_carol]));
    assert_eq!(
        service
            .conversations(CAROL, page(1, 20))
            .await
            .unwrap()
            .total,
        1
    );
}

pub async fn search_ignores_case_and_treats_wildcards_literally<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let id = say(&service, ALICE, BOB, "Hello World").await;
    for text in [
        "say HELLO",
        "100% sure",
        "snake_case",
        "100 percent",
        "snakeXcase",
    ] {
        say(&service, BOB, ALICE, text).await;
    }
    let find = |q: &'static str| {
        let service = service.clone();
        async move {
            let query = SearchQuery::parse(q, &Limits::default()).unwrap();
            let found = service
                .search(ALICE, id, &query, page(1, 20))
                .await
                .unwrap();
            (found.total, contents(&found.messages))
        }
    };
    assert_eq!(
        find("hello").await,
        (2, vec!["say HELLO".into(), "Hello World".into()])
    );
    assert_eq!(find("0%").await, (1, vec!["100% sure".into()]));
    assert_eq!(find("e_c").await, (1, vec!["snake_case".into()]));
    assert_eq!(find("%").await.0, 1);
    assert_eq!(find("nothing").await.0, 0);
    let query = SearchQuery::parse("hello", &Limits::default()).unwrap();
    let paged = service.search(ALICE, id, &query, page(2, 1)).await.unwrap();
    assert_eq!(
        (paged.total, contents(&paged.messages)),
        (2, vec!["Hello World".into()])
    );
}

pub async fn delete_is_sender_only_and_hides_the_message_everywhere<S: Store>(store: S) {
    let (service, events) = setup(store).await;
    let first = service
        .send_message(send(ALICE, BOB, "keep"))
        .await
        .unwrap();
    let doomed = service
        .send_message(send(ALICE, BOB, "oops secret"))
        .await
        .unwrap();
    let id = doomed.message.conversation_id;
    events.take();
    assert_not_found(
        service.delete_message(BOB, doomed.message.id).await,
        Entity::Message,
    );
    assert_not_found(
        service.delete_message(CAROL, doomed.message.id).await,
        Entity::Message,
    );
    assert_eq!(service.unread_count(BOB).await.unwrap(), 2);
    let deleted = service
        .delete_message(ALICE, doomed.message.id)
        .await
        .unwrap();
    assert_eq!(deleted.id, doomed.message.id);
    assert!(matches!(&events.take()[..], [ChatEvent::MessageDeleted(d)] if d.seq == Seq(2)));
    assert_not_found(
        service.delete_message(ALICE, doomed.message.id).await,
        Entity::Message,
    );
    let history = service
        .messages(BOB, id, MessageWindow::Page(page(1, 50)))
        .await
        .unwrap();
    assert_eq!(
        (history.total, contents(&history.messages)),
        (1, vec!["keep".into()])
    );
    let query = SearchQuery::parse("secret", &Limits::default()).unwrap();
    assert_eq!(
        service
            .search(BOB, id, &query, page(1, 20))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(service.unread_count(BOB).await.unwrap(), 1);
    let list = service.conversations(BOB, page(1, 20)).await.unwrap();
    assert_eq!(
        list.items[0].conversation.last_message.as_deref(),
        Some("keep")
    );
    assert_eq!(list.items[0].conversation.message_count, 1);
    service
        .delete_message(ALICE, first.message.id)
        .await
        .unwrap();
    let list = service.conversations(BOB, page(1, 20)).await.unwrap();
    assert_eq!(list.items[0].conversation.last_message, None);
    assert_eq!(service.unread_count(BOB).await.unwrap(), 0);
}
