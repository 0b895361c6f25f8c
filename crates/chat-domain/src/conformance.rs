//! The store contract as executable tests: one definition, run against every store.
//!
//! Each `pub async fn` is a test body that drives a [`ChatService`] over a fresh, empty store
//! and panics when the store breaks the contract. A store crate runs them all with
//! [`store_conformance_tests!`](crate::store_conformance_tests), giving it an async factory
//! that returns `(store, guard)`; the guard lives until the test ends (a database to drop,
//! say).

// Test bodies: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use futures_util::future::join_all;

use crate::{
    ChatError, ChatEvent, ChatService, ConversationId, Entity, Limits, MessageBody, MessageWindow,
    PageRequest, SearchQuery, SendMessage, Seq, Store, UpsertUser, UserId, Username,
    memory::RecordedEvents,
};

/// Generates one `#[tokio::test]` per conformance body, each on a store from `$factory`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:path) => {
        $crate::store_conformance_tests!(@each $factory;
            send_creates_the_direct_conversation_on_first_contact,
            both_directions_share_one_conversation,
            send_to_unknown_receiver_is_not_found_and_writes_nothing,
            send_to_self_is_invalid,
            reused_client_message_id_is_a_conflict,
            pages_show_every_message_once_newest_first,
            cursors_page_deep_history,
            conversations_are_listed_by_newest_activity,
            unread_counts_follow_the_read_watermark,
            own_send_moves_own_watermark,
            search_ignores_case_and_treats_wildcards_literally,
            delete_is_sender_only_and_hides_the_message_everywhere,
            third_user_sees_nothing_of_others_conversation,
            events_follow_committed_writes,
            upsert_user_refreshes_the_profile,
            concurrent_first_sends_create_one_conversation,
            concurrent_sends_get_distinct_gapless_seqs,
        );
    };
    (@each $factory:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $factory().await;
                $crate::conformance::$name(store).await;
            }
        )*
    };
}

type Service<S> = ChatService<S, RecordedEvents>;

const ALICE: UserId = UserId(1);
const BOB: UserId = UserId(2);
const CAROL: UserId = UserId(3);

async fn setup<S: Store>(store: S) -> (Service<S>, RecordedEvents) {
    let events = RecordedEvents::default();
    let service = ChatService::new(store, events.clone(), Limits::default());
    for (id, name) in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")] {
        service
            .upsert_user(UpsertUser {
                id,
                username: Username::parse(name).unwrap(),
                display_name: None,
                avatar_url: None,
            })
            .await
            .unwrap();
    }
    (service, events)
}

fn send(from: UserId, to: UserId, text: &str) -> SendMessage {
    SendMessage {
        sender: from,
        receiver: to,
        content: MessageBody::parse(text, &Limits::default()).unwrap(),
        attachment_url: None,
        client_message_id: None,
    }
}

async fn say<S: Store>(
    service: &Service<S>,
    from: UserId,
    to: UserId,
    text: &str,
) -> ConversationId {
    let sent = service.send_message(send(from, to, text)).await.unwrap();
    sent.message.conversation_id
}

fn page(page: u32, limit: u32) -> PageRequest {
    PageRequest { page, limit }
}

fn contents(messages: &[crate::Message]) -> Vec<String> {
    messages.iter().map(|m| m.content.clone()).collect()
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, ChatError>, entity: Entity) {
    match result {
        Err(ChatError::NotFound { entity: e }) if e == entity => {}
        other => panic!("expected {entity} not found, got {other:?}"),
    }
}

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

pub async fn reused_client_message_id_is_a_conflict<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let mut cmd = send(ALICE, BOB, "once");
    cmd.client_message_id = Some(crate::ClientMessageId::parse("c-1").unwrap());
    let first = service.send_message(cmd.clone()).await.unwrap();
    assert_eq!(first.message.client_message_id.as_deref(), Some("c-1"));
    let again = service.send_message(cmd.clone()).await;
    assert!(matches!(again, Err(ChatError::Conflict(_))), "{again:?}");
    cmd.sender = BOB;
    cmd.receiver = ALICE;
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

pub async fn upsert_user_refreshes_the_profile<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let before = service.user(ALICE).await.unwrap();
    let after = service
        .upsert_user(UpsertUser {
            id: ALICE,
            username: Username::parse("alice2").unwrap(),
            display_name: Some("Alice".into()),
            avatar_url: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (after.username.as_str(), after.created_at),
        ("alice2", before.created_at)
    );
    assert_eq!(
        service.user(ALICE).await.unwrap().display_name.as_deref(),
        Some("Alice")
    );
    assert_not_found(service.user(UserId(77)).await, Entity::User);
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
