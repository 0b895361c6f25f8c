//! Who is where: sockets, the rooms they joined (`conversation_<id>`, `user_<id>`) and each
//! user's sockets, in two-way maps under one lock.

use std::collections::{HashMap, HashSet};

use chat_domain::{ConversationId, UserId};

use crate::socketio::SioSocket;

/// A room of the seed: a conversation's, or a user's personal one (all their devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Room {
    /// `conversation_<id>`: the sockets reading a conversation.
    Conversation(ConversationId),
    /// `user_<id>`: a user's sockets that joined their personal room.
    User(UserId),
}

struct Member {
    socket: SioSocket,
    user: UserId,
    rooms: Vec<Room>,
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManyRooms;

/// What a socket leaving took with it.
#[derive(Debug)]
pub(crate) struct Departure {
    pub(crate) user: UserId,
    pub(crate) rooms: Vec<Room>,
    /// Whether it was the user's last socket (the user went offline).
    pub(crate) last_of_user: bool,
}

/// The maps; the hub keeps them behind one lock.
#[derive(Default)]
pub(crate) struct Rooms {
    sockets: HashMap<String, Member>,
    rooms: HashMap<Room, HashSet<String>>,
    users: HashMap<UserId, HashSet<String>>,
}

impl Rooms {
    /// Registers a connected socket; true when it is the user's first (they came online).
    pub(crate) fn add(&mut self, socket: SioSocket, user: UserId) -> bool {
        let id = socket.id().to_owned();
        let sockets = self.users.entry(user).or_default();
        let first = sockets.is_empty();
        sockets.insert(id.clone());
        let member = Member {
            socket,
            user,
            rooms: Vec::new(),
        };
        self.sockets.insert(id, member);
        first
    }

    /// Forgets a socket and its rooms.
    pub(crate) fn remove(&mut self, socket: &str) -> Option<Departure> {
        let member = self.sockets.remove(socket)?;
        for room in &member.rooms {
            if let Some(members) = self.rooms.get_mut(room) {
                members.remove(socket);
                if members.is_empty() {
                    self.rooms.remove(room);
                }
            }
        }
        let mut last_of_user = false;
        if let Some(sockets) = self.users.get_mut(&member.user) {
            sockets.remove(socket);
            if sockets.is_empty() {
                self.users.remove(&member.user);
                last_of_user = true;
            }
        }
        Some(Departure {
            user: member.user,
            rooms: member.rooms,
            last_of_user,
        })
    }

    /// Puts a socket in a room; `Ok(false)` when it was already there.
    pub(crate) fn join(
        &mut self,
        socket: &str,
        room: Room,
        max_rooms: usize,
    ) -> Result<bool, TooManyRooms> {
        let Some(member) = self.sockets.get_mut(socket) else {
            return Ok(false);
        };
        if member.rooms.contains(&room) {
            return Ok(false);
        }
        if member.rooms.len() >= max_rooms {
            return Err(TooManyRooms);
        }
        member.rooms.push(room);
        self.rooms
            .entry(room)
            .or_default()
            .insert(socket.to_owned());
        Ok(true)
    }

    /// Takes every socket of `user` out of `room` (they left the conversation); returns them.
    pub(crate) fn evict(&mut self, user: UserId, room: Room) -> Vec<SioSocket> {
        let Some(ids) = self.users.get(&user) else {
            return Vec::new();
        };
        let mut evicted = Vec::new();
        for id in ids {
            let Some(member) = self.sockets.get_mut(id) else {
                continue;
            };
            if let Some(at) = member.rooms.iter().position(|r| *r == room) {
                member.rooms.swap_remove(at);
                evicted.push(member.socket.clone());
            }
        }
        if let Some(members) = self.rooms.get_mut(&room) {
            for socket in &evicted {
                members.remove(socket.id());
            }
            if members.is_empty() {
                self.rooms.remove(&room);
            }
        }
        evicted
    }

    /// Whether a socket is in a room.
    pub(crate) fn contains(&self, socket: &str, room: Room) -> bool {
        self.rooms
            .get(&room)
            .is_some_and(|members| members.contains(socket))
    }

    /// Whether any socket of `user` is in `room`.
    pub(crate) fn user_in(&self, user: UserId, room: Room) -> bool {
        let (Some(sockets), Some(members)) = (self.users.get(&user), self.rooms.get(&room)) else {
            return false;
        };
        sockets.iter().any(|socket| members.contains(socket))
    }

    /// The sockets in a room, but `except`.
    pub(crate) fn in_room(&self, room: Room, except: Option<&str>) -> Vec<SioSocket> {
        self.collect(self.rooms.get(&room), except)
    }

    /// Whether any socket of `user` is here.
    pub(crate) fn holds(&self, user: UserId) -> bool {
        self.users.contains_key(&user)
    }

    /// The users with a socket here.
    pub(crate) fn users(&self) -> Vec<UserId> {
        self.users.keys().copied().collect()
    }

    /// Every socket of a user, whatever rooms they joined.
    pub(crate) fn of_user(&self, user: UserId) -> Vec<SioSocket> {
        self.collect(self.users.get(&user), None)
    }

    fn collect(&self, ids: Option<&HashSet<String>>, except: Option<&str>) -> Vec<SioSocket> {
        ids.into_iter()
            .flatten()
            .filter(|id| Some(id.as_str()) != except)
            .filter_map(|id| self.sockets.get(id).map(|m| m.socket.clone()))
            .collect()
    }
}
