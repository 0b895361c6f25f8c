//! The host's code on the in-memory store: the sink, the forwarder and the sign-up, without
//! a database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_domain::memory::MemoryStore;
use chat_domain::{ChatEvent, Policy, SendMessage, UpsertUser, UserId, Username};

use crate::{EventLine, Forwarder, Host, QueueSink};

fn user(id: i64, name: &str) -> UpsertUser {
    UpsertUser {
        id: UserId(id),
        username: Username::parse(name).unwrap(),
        display_name: None,
        avatar_url: None,
    }
}

/// A host on a fresh in-memory store whose queue holds `capacity` events, and its forwarder.
async fn host(
    capacity: usize,
) -> (
    Host<MemoryStore, QueueSink>,
    QueueSink,
    Forwarder<MemoryStore>,
) {
    let store = MemoryStore::new();
    let (sink, queue) = QueueSink::channel(capacity);
    let forwarder = Forwarder::new(store.clone(), queue).await.unwrap();
    let host = Host::new(store, sink.clone(), Policy::default(), user(1, "bot"))
        .await
        .unwrap();
    (host, sink, forwarder)
}

/// Closes the queue (the host and the sink go) and returns every line the forwarder writes.
async fn lines_after(
    host: Host<MemoryStore, QueueSink>,
    sink: QueueSink,
    forwarder: Forwarder<MemoryStore>,
) -> Vec<serde_json::Value> {
    drop((host, sink));
    let mut out = Vec::new();
    let written = forwarder.run(&mut out).await.unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(written, lines.len() as u64);
    lines
}

#[tokio::test]
async fn signing_up_welcomes_the_user_once_even_when_retried() {
    let (host, sink, forwarder) = host(16).await;
    let (alice, first) = host.sign_up(user(2, "alice")).await.unwrap();
    let (_, again) = host.sign_up(user(2, "alice")).await.unwrap();

    assert!(!first.replayed);
    assert!(
        again.replayed,
        "the second sign-up answers with the first welcome"
    );
    assert_eq!(again.message.id, first.message.id);
    let lines = lines_after(host, sink, forwarder).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["kind"], "message_sent");
    assert_eq!(line["event"]["message"]["content"], "Welcome, alice!");
    assert_eq!(line["event"]["message"]["sender_id"], 1);
    let members: Vec<i64> = line["event"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(members, [1, alice.id.get()]);
}

#[tokio::test]
async fn what_a_full_queue_dropped_is_forwarded_from_the_store_in_order() {
    let (host, sink, forwarder) = host(1).await;
    let (alice, _) = host.sign_up(user(2, "alice")).await.unwrap();
    for n in 1..=5 {
        let send = SendMessage::parse(
            alice.id,
            UserId(1),
            format!("message {n}"),
            None,
            None,
            host.chat().limits(),
        )
        .unwrap();
        host.chat().send_message(send).await.unwrap();
    }

    // Nobody took from the queue: it kept the welcome and dropped the five messages.
    assert_eq!(sink.dropped(), 5);
    let lines = lines_after(host, sink, forwarder).await;
    let contents: Vec<&str> = lines
        .iter()
        .map(|l| l["event"]["message"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        [
            "Welcome, alice!",
            "message 1",
            "message 2",
            "message 3",
            "message 4",
            "message 5"
        ]
    );
    let positions: Vec<i64> = lines
        .iter()
        .map(|l| l["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|p| p[1] == p[0] + 1),
        "one conversation, one writer, gapless: {positions:?}"
    );
}

// Paused clock: the forwarder's catch-up (a second away) cannot stand in for the gap read.
#[tokio::test(start_paused = true)]
async fn an_event_after_dropped_ones_brings_them_along_in_order() {
    let (host, sink, mut forwarder) = host(1).await;
    let (alice, _) = host.sign_up(user(2, "alice")).await.unwrap();
    let send = |n: u32| {
        let limits = host.chat().limits();
        SendMessage::parse(
            alice.id,
            UserId(1),
            format!("message {n}"),
            None,
            None,
            limits,
        )
        .unwrap()
    };
    host.chat().send_message(send(1)).await.unwrap();
    host.chat().send_message(send(2)).await.unwrap();
    assert_eq!(sink.dropped(), 2, "the welcome filled the queue");
    let welcome = forwarder.next().await.unwrap().unwrap();
    assert_eq!(welcome.len(), 1);

    host.chat().send_message(send(3)).await.unwrap();
    let batch = forwarder.next().await.unwrap().unwrap();
    let contents: Vec<&str> = batch
        .iter()
        .map(|e| match &e.event {
            ChatEvent::MessageSent(sent) => sent.message.content.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(contents, ["message 1", "message 2", "message 3"]);
    drop((host, sink));
}

#[tokio::test]
async fn an_event_handed_out_already_is_not_forwarded_again() {
    let store = MemoryStore::new();
    let (sink, queue) = QueueSink::channel(16);
    let mut forwarder = Forwarder::new(store.clone(), queue).await.unwrap();
    let host = Host::new(
        store.clone(),
        sink.clone(),
        Policy::default(),
        user(1, "bot"),
    )
    .await
    .unwrap();
    host.sign_up(user(2, "alice")).await.unwrap();
    let first = forwarder.next().await.unwrap().unwrap();
    assert_eq!(first.len(), 1);

    // A queue that repeats an event (a retrying transport) hands it over twice.
    use chat_domain::EventSink as _;
    sink.publish(first[0].clone());
    host.sign_up(user(3, "bob")).await.unwrap();
    let next = forwarder.next().await.unwrap().unwrap();
    assert_eq!(next.len(), 1);
    assert_ne!(next[0].position, first[0].position);
}

#[tokio::test]
async fn a_line_names_the_event_and_its_place_in_the_stream() {
    let (host, sink, mut forwarder) = host(16).await;
    let (alice, sent) = host.sign_up(user(2, "alice")).await.unwrap();
    let conversation = sent.conversation.conversation.id;
    host.chat().mark_read(alice.id, conversation).await.unwrap();

    let mut events = Vec::new();
    while events.len() < 2 {
        events.extend(forwarder.next().await.unwrap().unwrap());
    }
    assert!(matches!(events[1].event, ChatEvent::MessagesRead(_)));
    let line = EventLine::new(&events[1]).unwrap();
    assert_eq!(line.kind, "messages_read");
    assert_eq!(line.writer, chat_domain::writer_of(conversation));
    assert_eq!(line.position, events[0].position.position + 1);
    assert_eq!(line.conversation_id, conversation.get());
    assert_eq!(line.event["user_id"], alice.id.get());
    assert_eq!(line.event["last_read_seq"], 1);
    drop((host, sink));
}
