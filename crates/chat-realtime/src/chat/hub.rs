//! The fan-out hub: the domain's event sink on the realtime side. It turns what happened into
//! Socket.IO events, encodes each one once, and queues the same frame on every socket that
//! should see it; a socket whose queue is full is cut off without delaying anyone else.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chat_domain::wire::{MessageView, iso};
use chat_domain::{
    ChatEvent, ConversationId, EventSink, MessageDeleted, MessageSent, MessagesRead, UserId,
};
use serde::Serialize;
use serde_json::json;

use super::order::Sequencer;
use super::rooms::{Departure, Room, Rooms, TooManyRooms};
use super::session::SocketSlot;
use crate::engineio::Frame;
use crate::socketio::{Namespace, OutboundEvent, SioSocket};

/// Encodes an event for the main namespace once, straight from its payload, as the frame every
/// receiver shares. The payloads are the chat's own types, which always serialize.
pub(crate) fn event_frame(event: &str, payload: &impl Serialize) -> Frame {
    Frame::message(OutboundEvent::new(&Namespace::MAIN, event, payload))
}

/// The realtime side of the chat: rooms, presence and delivery of domain events.
pub struct Hub {
    // Std mutexes: each is held for map operations only, never across an await, and
    // never while another is held.
    rooms: Mutex<Rooms>,
    sequencer: Mutex<Sequencer>,
    /// Sockets per user, connected or being admitted, for `max_sockets_per_user`.
    slots: Mutex<HashMap<UserId, usize>>,
    max_rooms: usize,
    max_sockets_per_user: usize,
    /// CONNECTs refused because their user had `max_sockets_per_user` sockets.
    refused_sockets: AtomicU64,
    gap_grace: Duration,
    this: Weak<Hub>,
}

impl Hub {
    /// A hub allowing each socket `max_rooms` rooms and each user `max_sockets_per_user`
    /// sockets, waiting `gap_grace` for a missing `seq`.
    pub fn new(max_rooms: usize, max_sockets_per_user: usize, gap_grace: Duration) -> Arc<Hub> {
        Arc::new_cyclic(|this| Hub {
            rooms: Mutex::default(),
            sequencer: Mutex::default(),
            slots: Mutex::default(),
            max_rooms,
            max_sockets_per_user,
            refused_sockets: AtomicU64::new(0),
            gap_grace,
            this: Weak::clone(this),
        })
    }

    /// How many CONNECTs were refused since start-up because their user already had
    /// `max_sockets_per_user` sockets.
    pub fn refused_sockets(&self) -> u64 {
        self.refused_sockets.load(Ordering::Relaxed)
    }

    /// Takes one of `user`'s socket slots, or `None` (counted) when all are taken.
    pub(crate) fn reserve_slot(&self, user: UserId) -> Option<SocketSlot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = slots.entry(user).or_default();
        if *taken >= self.max_sockets_per_user {
            drop(slots);
            self.refused_sockets.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *taken += 1;
        Some(SocketSlot {
            hub: Weak::clone(&self.this),
            user,
        })
    }

    /// Gives back one of `user`'s socket slots.
    pub(crate) fn release_slot(&self, user: UserId) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(taken) = slots.get_mut(&user) {
            *taken = taken.saturating_sub(1);
            if *taken == 0 {
                slots.remove(&user);
            }
        }
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connected socket; true when it is the user's first.
    pub(crate) fn connect(&self, socket: SioSocket, user: UserId) -> bool {
        self.rooms().add(socket, user)
    }

    /// Forgets a socket; tells its rooms it left.
    pub(crate) fn disconnect(&self, socket: &SioSocket) -> Option<Departure> {
        let departure = self.rooms().remove(socket.id())?;
        for room in &departure.rooms {
            if let Room::Conversation(id) = room {
                let left = json!({ "userId": departure.user, "conversationId": id });
                self.to_room(*room, &event_frame("user_left", &left), None);
            }
        }
        Some(departure)
    }

    /// Puts a socket in a room; `Ok(false)` when it was there already.
    pub(crate) fn join(&self, socket: &SioSocket, room: Room) -> Result<bool, TooManyRooms> {
        self.rooms().join(socket.id(), room, self.max_rooms)
    }

    /// Whether the socket joined the room.
    pub(crate) fn is_in(&self, socket: &SioSocket, room: Room) -> bool {
        self.rooms().contains(socket.id(), room)
    }

    /// Sends one frame to every socket in a room but `except`.
    pub(crate) fn to_room(&self, room: Room, frame: &Frame, except: Option<&str>) {
        let sockets = self.rooms().in_room(room, except);
        deliver(&sockets, frame);
    }

    /// Sends one frame to every socket of each of `users`.
    pub(crate) fn to_users(&self, users: &[UserId], frame: &Frame) {
        let sockets: Vec<SioSocket> = {
            let rooms = self.rooms();
            users.iter().flat_map(|user| rooms.of_user(*user)).collect()
        };
        deliver(&sockets, frame);
    }

    /// Delivers a new message to its room and notifies its members outside the room. Nothing
    /// is encoded when nobody is connected to hear it.
    fn message_sent(&self, event: &MessageSent) {
        #[derive(Serialize)]
        struct Notification<'a> {
            #[serde(rename = "conversationId")]
            conversation_id: ConversationId,
            #[serde(rename = "senderId")]
            sender_id: UserId,
            message: &'a MessageView,
        }
        let conversation = event.message.conversation_id;
        let room = Room::Conversation(conversation);
        let (in_room, outside) = {
            let rooms = self.rooms();
            let outside: Vec<SioSocket> = event
                .members
                .iter()
                .map(|m| m.id)
                .filter(|id| *id != event.message.sender_id && !rooms.user_in(*id, room))
                .flat_map(|id| rooms.of_user(id))
                .collect();
            (rooms.in_room(room, None), outside)
        };
        if in_room.is_empty() && outside.is_empty() {
            return;
        }
        let view = MessageView::fresh(&event.message, &event.members);
        if !in_room.is_empty() {
            deliver(&in_room, &event_frame("new_message", &view));
        }
        if !outside.is_empty() {
            let notification = Notification {
                conversation_id: conversation,
                sender_id: event.message.sender_id,
                message: &view,
            };
            deliver(
                &outside,
                &event_frame("message_notification", &notification),
            );
        }
    }

    fn deliver_in_order(&self, event: MessageSent) {
        let conversation = event.message.conversation_id;
        // Frames are queued while the sequencer is held: two threads that admit `n` and `n + 1`
        // in that order also queue them in that order.
        let sequencer = self.sequencer.lock();
        let mut sequencer = sequencer.unwrap_or_else(PoisonError::into_inner);
        let admitted = sequencer.admit(event);
        for ready in &admitted.ready {
            self.message_sent(ready);
        }
        drop(sequencer);
        if admitted.holding {
            self.release_later(conversation);
        }
    }

    /// Arms the grace timer of a held-back conversation.
    fn release_later(&self, conversation: ConversationId) {
        let (hub, grace) = (Weak::clone(&self.this), self.gap_grace);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            tokio::time::sleep(grace).await;
            if let Some(hub) = hub.upgrade() {
                let sequencer = hub.sequencer.lock();
                let mut sequencer = sequencer.unwrap_or_else(PoisonError::into_inner);
                let released = sequencer.release(conversation);
                if !released.is_empty() {
                    tracing::warn!(conversation = %conversation, count = released.len(), "delivered past a seq gap");
                }
                for event in &released {
                    hub.message_sent(event);
                }
            }
        });
    }

    fn messages_read(&self, event: &MessagesRead) {
        #[derive(Serialize)]
        struct Read {
            #[serde(rename = "conversationId")]
            conversation_id: ConversationId,
            #[serde(rename = "userId")]
            user_id: UserId,
            #[serde(rename = "readAt", serialize_with = "iso")]
            read_at: chrono::DateTime<chrono::Utc>,
            #[serde(rename = "lastReadSeq")]
            last_read_seq: i64,
        }
        let read = Read {
            conversation_id: event.conversation_id,
            user_id: event.user_id,
            read_at: event.read_at,
            last_read_seq: event.last_read_seq.get(),
        };
        let room = Room::Conversation(event.conversation_id);
        self.to_room(room, &event_frame("messages_read", &read), None);
    }

    fn message_deleted(&self, event: &MessageDeleted) {
        let deleted = json!({
            "conversationId": event.conversation_id,
            "messageId": event.message_id,
            "seq": event.seq,
            "deletedBy": event.deleted_by,
        });
        let room = Room::Conversation(event.conversation_id);
        self.to_room(room, &event_frame("message_deleted", &deleted), None);
    }
}

impl EventSink for Hub {
    fn publish(&self, event: ChatEvent) {
        match event {
            ChatEvent::MessageSent(sent) => self.deliver_in_order(sent),
            ChatEvent::MessagesRead(read) => self.messages_read(&read),
            ChatEvent::MessageDeleted(deleted) => self.message_deleted(&deleted),
        }
    }
}

/// Queues the frame on each socket; a full queue cuts that socket off (inside `send`) and
/// nobody else waits for it.
fn deliver(sockets: &[SioSocket], frame: &Frame) {
    for socket in sockets {
        let _ = socket.send_frame(frame.clone());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::Value;

    use super::*;
    use crate::socketio::Packet;

    fn text(frame: &Frame) -> &str {
        match frame {
            Frame::Text(text) => text,
            Frame::Binary(_) => panic!("a text frame"),
        }
    }

    #[test]
    fn an_event_frame_is_the_packet_of_its_payload() {
        #[derive(Serialize)]
        struct Payload {
            #[serde(rename = "userId")]
            user_id: i64,
            note: &'static str,
        }
        let payload = Payload {
            user_id: 7,
            note: "a \"quoted\" é",
        };
        let direct = event_frame("user_typing", &payload);
        let tree = serde_json::to_value(&payload).unwrap();
        let through_value =
            Frame::message(Packet::event(Namespace::MAIN, "user_typing", vec![tree]));
        let (direct, through_value) = (text(&direct), text(&through_value));
        assert!(direct.starts_with(r#"42["user_typing","#), "{direct}");
        let parse = |t: &str| serde_json::from_str::<Value>(&t[2..]).unwrap();
        assert_eq!(parse(direct), parse(through_value));
    }

    /// A message of conversation 1 with this `seq`.
    fn sent(seq: i64) -> MessageSent {
        use chat_domain::{Message, MessageId, Seq};
        MessageSent {
            message: Message {
                id: MessageId(seq),
                conversation_id: ConversationId(1),
                seq: Seq(seq),
                sender_id: UserId(1),
                content: format!("m{seq}"),
                attachment_url: None,
                client_message_id: None,
                created_at: chrono::Utc::now(),
                updated_at: chrono::Utc::now(),
            },
            members: Vec::new(),
        }
    }

    #[test]
    fn events_published_in_seq_order_from_many_threads_are_queued_in_seq_order() {
        const THREADS: usize = 4;
        const PER_ROUND: i64 = 1000;
        for round in 0..20 {
            let hub = Hub::new(10, 20, Duration::from_secs(60));
            let engine = crate::engineio::EngineSocket::detached();
            let socket = SioSocket::detached(Namespace::MAIN, engine.clone());
            hub.connect(socket.clone(), UserId(2));
            hub.join(&socket, Room::Conversation(ConversationId(1)))
                .unwrap();
            let next = std::sync::atomic::AtomicI64::new(1);
            std::thread::scope(|scope| {
                for _ in 0..THREADS {
                    scope.spawn(|| {
                        loop {
                            let seq = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            if seq > PER_ROUND {
                                break;
                            }
                            hub.publish(ChatEvent::MessageSent(sent(seq)));
                        }
                    });
                }
            });
            let order: Vec<i64> = engine
                .take_queued()
                .iter()
                .map(|frame| {
                    let (_, rest) = text(frame).split_once(r#""seq":"#).unwrap();
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits.parse().unwrap()
                })
                .collect();
            let expected: Vec<i64> = (1..=PER_ROUND).collect();
            assert_eq!(order, expected, "round {round}");
        }
    }
}
