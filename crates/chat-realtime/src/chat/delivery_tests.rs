//! The hub under a bus that reorders, repeats and loses events: every socket still gets each
//! event once, in position order, with its offset, the lost ones read from the store.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chat_domain::{
    ChatError, ChatEvent, ConversationId, ConversationKind, Message, MessageId, MessageSent, Seq,
    StreamEvent, StreamPosition, StreamToken, UserId, UserRef, writer_of,
};
use serde_json::Value;

use super::delivery::{Backfill, BoxFuture};
use super::hub::{Hub, HubConfig};
use super::rooms::Room;
use crate::engineio::{EngineSocket, Frame};
use crate::socketio::{Namespace, SioSocket};

const CONVERSATION: ConversationId = ConversationId(1);

/// The store: every event ever committed.
struct Stored(Vec<StreamEvent>);

impl Backfill for Stored {
    fn head(&self) -> BoxFuture<'_, Result<StreamToken, ChatError>> {
        let head: StreamToken = self.0.iter().map(|e| e.position).collect();
        Box::pin(async move { Ok(head) })
    }

    fn range(
        &self,
        writer: usize,
        after: i64,
        upto: i64,
    ) -> BoxFuture<'_, Result<Vec<StreamEvent>, ChatError>> {
        let events = self
            .0
            .iter()
            .filter(|e| e.position.writer == writer)
            .filter(|e| e.position.position > after && e.position.position <= upto)
            .cloned()
            .collect();
        Box::pin(async move { Ok(events) })
    }
}

/// Message `seq` of the conversation, the only one of its writer (so position = seq).
fn message(seq: i64) -> StreamEvent {
    let now = chrono::Utc::now();
    StreamEvent {
        position: StreamPosition {
            writer: writer_of(CONVERSATION),
            position: seq,
        },
        event: ChatEvent::MessageSent(MessageSent {
            message: Message {
                id: MessageId(seq),
                conversation_id: CONVERSATION,
                seq: Seq(seq),
                sender_id: UserId(1),
                content: format!("m{seq}"),
                attachment_url: None,
                client_message_id: None,
                created_at: now,
                updated_at: now,
                edited_at: None,
                reactions: Vec::new(),
                reply_to_id: None,
                reply_to: None,
                reply_count: 0,
                forwarded_from: None,
                mentions: Vec::new(),
            },
            members: vec![
                UserRef {
                    id: UserId(1),
                    username: "alice".into(),
                },
                UserRef {
                    id: UserId(2),
                    username: "bob".into(),
                },
            ],
            kind: ConversationKind::Direct,
        }),
    }
}

/// A tiny deterministic generator, so that a failing round can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// What a bus with these faults hands the hub: every event shuffled, a tenth of them twice, a
/// tenth never.
fn faulty_bus(events: &[StreamEvent], random: &mut Lcg) -> Vec<StreamEvent> {
    let mut out = Vec::new();
    for event in events {
        match random.below(10) {
            0 => {}
            1 => out.extend([event.clone(), event.clone()]),
            _ => out.push(event.clone()),
        }
    }
    for i in (1..out.len()).rev() {
        let j = usize::try_from(random.below(u64::try_from(i + 1).unwrap())).unwrap();
        out.swap(i, j);
    }
    out
}

/// The `(seq, offset)` of each `new_message` queued on a socket.
fn received(engine: &EngineSocket) -> Vec<(i64, String)> {
    engine
        .take_queued()
        .iter()
        .map(|frame| {
            let Frame::Text(text) = frame else {
                panic!("a text frame")
            };
            let packet: Value = serde_json::from_str(&text[2..]).unwrap();
            assert_eq!(packet[0], "new_message");
            let seq = packet[1]["seq"].as_i64().unwrap();
            (seq, packet[2].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reordered_repeated_and_lost_by_the_bus_reach_every_socket_once_in_order() {
    // Below the default outbound queue (1024 frames), which a detached socket never drains.
    const EVENTS: i64 = 1000;
    const PUBLISHERS: usize = 4;
    let writer = writer_of(CONVERSATION);
    for round in 0..20u64 {
        let hub = Hub::new(HubConfig {
            gap_fill_delay: Duration::from_millis(1),
            head_check: Duration::from_millis(5),
            ..HubConfig::default()
        });
        let events: Vec<StreamEvent> = (1..=EVENTS).map(message).collect();
        let engines: Vec<EngineSocket> = (0..2).map(|_| EngineSocket::detached()).collect();
        for (user, engine) in engines.iter().enumerate() {
            let socket = SioSocket::detached(Namespace::MAIN, engine.clone());
            hub.connect(socket.clone(), UserId(2 + i64::try_from(user).unwrap()));
            hub.join(&socket, Room::Conversation(CONVERSATION)).unwrap();
        }
        // Started after the sockets joined: its head check reads the whole store at once and
        // may deliver before the first event is published.
        hub.start_at(StreamToken::START, Arc::new(Stored(events.clone())));
        let delivered = faulty_bus(&events, &mut Lcg(round));
        std::thread::scope(|scope| {
            for chunk in delivered.chunks(delivered.len().div_ceil(PUBLISHERS)) {
                let hub = &hub;
                scope.spawn(move || {
                    for event in chunk {
                        hub.receive(event.clone());
                    }
                });
            }
        });
        tokio::time::timeout(Duration::from_secs(20), async {
            while hub.frontier().get(writer) < EVENTS {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!("round {round}: the lost events were never read from the store")
        });
        for engine in &engines {
            let got = received(engine);
            let seqs: Vec<i64> = got.iter().map(|(seq, _)| *seq).collect();
            let first_wrong = seqs.iter().zip(1..).position(|(got, want)| *got != want);
            assert!(
                first_wrong.is_none() && seqs.len() == 1000,
                "round {round}: {} frames, first out of place at {first_wrong:?}: {:?}",
                seqs.len(),
                first_wrong.map(|i| &seqs[i.saturating_sub(2)..(i + 3).min(seqs.len())])
            );
            for (seq, offset) in got {
                let token = StreamToken::parse(&offset, "offset").unwrap();
                assert_eq!(
                    token.get(writer),
                    seq,
                    "round {round}: the offset after {seq}"
                );
            }
        }
    }
}
