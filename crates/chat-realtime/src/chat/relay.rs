//! What a node tells the other nodes of a cluster that the store does not hold: a member
//! typing, a socket leaving a room, a user coming online or going offline. Each is one
//! Socket.IO packet, encoded once where it happened, for the sockets a target names on every
//! node. Relays are best-effort, like the events they carry: a lost one is not replayed.

use std::sync::Arc;

use bytestring::ByteString;
use chat_domain::UserId;
use serde::{Deserialize, Serialize};

use super::hub::Hub;
use super::rooms::Room;
use crate::engineio::Frame;

/// An ephemeral event for other nodes' sockets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relay {
    /// Whose sockets get it.
    pub target: RelayTarget,
    /// The Socket.IO packet (`2["typing",{...}]`), as a text frame carries it.
    pub packet: String,
}

/// The sockets a [`Relay`] goes to, on each node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelayTarget {
    /// Every socket in the room but the one named (the sender's own, which has it already).
    Room {
        /// The room.
        room: Room,
        /// A socket id to leave out.
        except: Option<String>,
    },
    /// Every socket of each of these users.
    Users(Vec<UserId>),
}

impl Relay {
    /// A relay of `frame` (a text frame: every relayed event is JSON), or `None`.
    pub(crate) fn of(target: RelayTarget, frame: &Frame) -> Option<Relay> {
        match frame {
            Frame::Text(text) => Some(Relay {
                target,
                packet: text.to_string(),
            }),
            Frame::Binary(_) => None,
        }
    }

    /// The frame this node's sockets get.
    pub(crate) fn frame(&self) -> Frame {
        Frame::Text(ByteString::from(self.packet.as_str()))
    }
}

/// The other nodes, as the hub sees them: where it hands the ephemeral events its sockets
/// raise. A cluster's bus implements it; a node alone has none.
pub trait Peers: Send + Sync + 'static {
    /// Hands `relay` to every other node; must not block (queue and return).
    fn relay(&self, relay: Relay);
}

impl Hub {
    /// Hands the ephemeral events of this node's sockets to `peers` from now on (a cluster's
    /// bus calls it when the hub subscribes). A hub has one set of peers; a second is ignored.
    pub fn attach_peers(&self, peers: Arc<dyn Peers>) {
        let _ = self.peers.set(peers);
    }

    /// Delivers what another node relayed to this node's sockets.
    pub fn relayed(&self, relay: &Relay) {
        let frame = relay.frame();
        match &relay.target {
            RelayTarget::Room { room, except } => self.to_room(*room, &frame, except.as_deref()),
            RelayTarget::Users(users) => self.to_users(users, &frame),
        }
    }

    /// Whether this node holds a socket of `user`.
    pub fn holds(&self, user: UserId) -> bool {
        self.rooms().holds(user)
    }

    /// The users with a socket on this node.
    pub fn users_here(&self) -> Vec<UserId> {
        self.rooms().users()
    }

    /// Sends one frame to every socket in a room but `except`, on this node and the others.
    pub(crate) fn broadcast_to_room(&self, room: Room, frame: &Frame, except: Option<&str>) {
        self.to_room(room, frame, except);
        let except = except.map(str::to_owned);
        self.relay(RelayTarget::Room { room, except }, frame);
    }

    /// Sends one frame to every socket of each of `users`, on this node and the others.
    pub(crate) fn broadcast_to_users(&self, users: Vec<UserId>, frame: &Frame) {
        self.to_users(&users, frame);
        self.relay(RelayTarget::Users(users), frame);
    }

    fn relay(&self, target: RelayTarget, frame: &Frame) {
        if let Some(peers) = self.peers.get()
            && let Some(relay) = Relay::of(target, frame)
        {
            peers.relay(relay);
        }
    }
}
