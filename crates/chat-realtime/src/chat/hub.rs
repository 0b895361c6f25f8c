//! The fan-out hub: where each node delivers the event stream. It puts events in stream
//! order (filling gaps from the store), turns them into Socket.IO events, encodes each one
//! once, and queues the same frame on every socket that should see it; a socket whose queue is
//! full is cut off without delaying anyone else. Rooms, presence and socket caps live here too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

use chat_domain::wire::events::{MemberActivity, ServerEvent};
use chat_domain::{ConversationId, STREAM_WRITERS, StreamToken, UserId};

use super::delivery::{Backfill, offset_frame};
use super::order::Sequencer;
use super::relay::Peers;
use super::rooms::{Departure, Room, Rooms, TooManyRooms};
use super::session::SocketSlot;
use crate::engineio::Frame;
use crate::socketio::SioSocket;

/// Encodes an event for the main namespace once, straight from its payload, as the frame every
/// receiver shares.
pub(crate) fn event_frame(event: &ServerEvent) -> Frame {
    offset_frame(event, None)
}

/// How a hub delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubConfig {
    /// Rooms one socket may join.
    pub max_rooms: usize,
    /// Sockets one user may hold at once.
    pub max_sockets_per_user: usize,
    /// How long an event that arrived ahead of its writer's next waits for the missing ones
    /// before they are read from the store (they are usually a few microseconds late: their
    /// publishers race once their commits are answered).
    pub gap_fill_delay: Duration,
    /// How often the store's head is compared with what was delivered, so that an event the
    /// bus lost with nothing after it is delivered all the same.
    pub head_check: Duration,
    /// Whether replayable events carry their connection state recovery offset as a last
    /// argument.
    pub offsets: bool,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            max_rooms: 1000,
            max_sockets_per_user: 20,
            gap_fill_delay: Duration::from_millis(50),
            head_check: Duration::from_secs(1),
            offsets: true,
        }
    }
}

/// The realtime side of the chat: rooms, presence and delivery of the event stream.
pub struct Hub {
    // Std mutexes: each is held for map operations and queueing frames only, never across
    // an await. The sequencer may be held while the rooms are taken, never the reverse.
    rooms: Mutex<Rooms>,
    pub(super) sequencer: Mutex<Sequencer>,
    /// Sockets per user, connected or being admitted, for `max_sockets_per_user`.
    slots: Mutex<HashMap<UserId, usize>>,
    pub(super) config: HubConfig,
    /// CONNECTs refused because their user had `max_sockets_per_user` sockets.
    refused_sockets: AtomicU64,
    /// Where missing events are read from, and the runtime that reads them (publishers may
    /// run on threads of no runtime, or on a worker's own).
    pub(super) backfill: OnceLock<(Arc<dyn Backfill>, tokio::runtime::Handle)>,
    /// Per writer, whether a gap fill is under way.
    pub(super) filling: Mutex<[bool; STREAM_WRITERS]>,
    /// The other nodes of a cluster, which get this node's ephemeral events.
    pub(super) peers: OnceLock<Arc<dyn Peers>>,
    pub(super) this: Weak<Hub>,
}

impl Hub {
    /// A hub that has delivered nothing yet: call [`Hub::start_at`] with the stream's head
    /// before any event arrives.
    pub fn new(config: HubConfig) -> Arc<Hub> {
        Arc::new_cyclic(|this| Hub {
            rooms: Mutex::default(),
            sequencer: Mutex::new(Sequencer::new(StreamToken::START)),
            slots: Mutex::default(),
            config,
            refused_sockets: AtomicU64::new(0),
            backfill: OnceLock::new(),
            filling: Mutex::default(),
            peers: OnceLock::new(),
            this: Weak::clone(this),
        })
    }

    /// Starts delivery after `head` (what the store held when the node started; earlier
    /// events are history) and reads missing events from `backfill`, on the current Tokio
    /// runtime. Call it from within that runtime.
    pub fn start_at(&self, head: StreamToken, backfill: Arc<dyn Backfill>) {
        *self.sequencer() = Sequencer::new(head);
        if let Ok(runtime) = tokio::runtime::Handle::try_current()
            && self.backfill.set((backfill, runtime)).is_ok()
        {
            self.watch_head(self.config.head_check);
        }
    }

    pub(super) fn sequencer(&self) -> MutexGuard<'_, Sequencer> {
        self.sequencer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything this hub has delivered: the stream token of now.
    pub fn frontier(&self) -> StreamToken {
        self.sequencer().frontier()
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
        if *taken >= self.config.max_sockets_per_user {
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

    pub(super) fn rooms(&self) -> MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connected socket; true when it is the user's first.
    pub(crate) fn connect(&self, socket: SioSocket, user: UserId) -> bool {
        self.rooms().add(socket, user)
    }

    /// Forgets a socket without telling anyone (it was never announced).
    pub(crate) fn forget(&self, socket: &SioSocket) {
        self.rooms().remove(socket.id());
    }

    /// Forgets a socket; tells its rooms it left.
    pub(crate) fn disconnect(&self, socket: &SioSocket) -> Option<Departure> {
        let departure = self.rooms().remove(socket.id())?;
        for room in &departure.rooms {
            if let Room::Conversation(id) = room {
                let left = ServerEvent::UserLeft(MemberActivity::new(departure.user, *id));
                self.broadcast_to_room(*room, &event_frame(&left), None);
            }
        }
        Some(departure)
    }

    /// Puts a socket in a room; `Ok(false)` when it was there already. With it, the stream
    /// token from which the room's events reach the socket.
    pub(crate) fn join(
        &self,
        socket: &SioSocket,
        room: Room,
    ) -> Result<(bool, StreamToken), TooManyRooms> {
        self.join_at(socket, room, false)
    }

    /// Like [`Hub::join`], and holds the socket's broadcasts from that point (until
    /// [`SioSocket::release_broadcasts`]) so that a catch-up can go first.
    pub(crate) fn join_held(
        &self,
        socket: &SioSocket,
        room: Room,
    ) -> Result<(bool, StreamToken), TooManyRooms> {
        self.join_at(socket, room, true)
    }

    fn join_at(
        &self,
        socket: &SioSocket,
        room: Room,
        hold: bool,
    ) -> Result<(bool, StreamToken), TooManyRooms> {
        let sequencer = self.sequencer();
        let joined = self
            .rooms()
            .join(socket.id(), room, self.config.max_rooms)?;
        if hold {
            socket.hold_broadcasts();
        }
        Ok((joined, sequencer.frontier()))
    }

    /// Registers a recovered socket in its rooms with its broadcasts held, all at one point
    /// of the stream, which it returns; and whether it is the user's first socket.
    pub(crate) fn connect_held(
        &self,
        socket: SioSocket,
        user: UserId,
        rooms: &[ConversationId],
    ) -> (bool, StreamToken) {
        let sequencer = self.sequencer();
        let mut all = self.rooms();
        socket.hold_broadcasts();
        let id = socket.id().to_owned();
        let first = all.add(socket, user);
        for room in rooms {
            let _ = all.join(&id, Room::Conversation(*room), self.config.max_rooms);
        }
        (first, sequencer.frontier())
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
}

/// Queues the frame on each socket; a full queue cuts that socket off (inside `send`) and
/// nobody else waits for it.
pub(super) fn deliver(sockets: &[SioSocket], frame: &Frame) {
    deliver_keyed(sockets, frame, None);
}

/// Like [`deliver`], naming the frame for the release of a held socket.
pub(super) fn deliver_keyed(sockets: &[SioSocket], frame: &Frame, key: Option<(i64, i64)>) {
    crate::observability::frames_queued(sockets.len());
    for socket in sockets {
        let _ = socket.broadcast_frame(frame.clone(), key);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::Value;

    use chat_domain::wire::events::ErrorNotice;

    use super::*;
    use crate::socketio::{Namespace, Packet};

    fn text(frame: &Frame) -> &str {
        match frame {
            Frame::Text(text) => text,
            Frame::Binary(_) => panic!("a text frame"),
        }
    }

    #[test]
    fn an_event_frame_is_the_packet_of_its_payload() {
        let event = ServerEvent::Error(ErrorNotice {
            message: "a \"quoted\" é".to_owned(),
            code: "invalid_input".to_owned(),
            event: Some("typing".to_owned()),
        });
        let direct = event_frame(&event);
        let tree = serde_json::to_value(&event).unwrap();
        let through_value = Frame::message(Packet::event(Namespace::MAIN, "error", vec![tree]));
        let (direct, through_value) = (text(&direct), text(&through_value));
        assert!(direct.starts_with(r#"42["error","#), "{direct}");
        let parse = |t: &str| serde_json::from_str::<Value>(&t[2..]).unwrap();
        assert_eq!(parse(direct), parse(through_value));
    }
}
