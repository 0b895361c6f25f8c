//! Presence: `user_online` when a user's first socket connects, `user_offline` when their last
//! one goes, told to their contacts (everyone who shares a conversation with them) on every
//! node. A node alone decides from its own sockets; in a cluster a [`PresenceRegistry`]
//! decides from every node's.

use std::sync::Arc;

use chat_domain::wire::events::{Presence, ServerEvent};
use chat_domain::{ChatService, EventSink, Store, UserId};

use super::hub::{Hub, event_frame};

/// Where presence is decided when it spans several nodes: a user is online while any node
/// holds one of their sockets.
pub trait PresenceRegistry: Send + Sync + 'static {
    /// This node's sockets of `user` went from none to some, or from some to none. The
    /// registry reads [`Hub::holds`] when it gets to it (so that changes in quick succession
    /// settle on the last) and has the user announced when their state across nodes changed.
    /// Must not block.
    fn changed(&self, user: UserId);
}

/// Tells a user's contacts that the user came online or went offline.
pub trait AnnouncePresence: Send + Sync + 'static {
    /// Announces `user` as online (`true`) or offline, to their contacts' sockets on every
    /// node; must not block.
    fn announce(&self, user: UserId, online: bool);
}

/// The announcer over the chat service (which knows the contacts) and the hub (which reaches
/// their sockets, here and on the other nodes).
pub struct PresenceAnnouncer<S, E> {
    chat: ChatService<S, E>,
    hub: Arc<Hub>,
}

impl<S, E> PresenceAnnouncer<S, E> {
    /// The announcer of `chat`'s users through `hub`.
    pub fn new(chat: ChatService<S, E>, hub: Arc<Hub>) -> Self {
        PresenceAnnouncer { chat, hub }
    }
}

impl<S: Store, E: EventSink> AnnouncePresence for PresenceAnnouncer<S, E> {
    fn announce(&self, user: UserId, online: bool) {
        let (chat, hub) = (self.chat.clone(), Arc::clone(&self.hub));
        tokio::spawn(async move {
            let presence = Presence::from(user);
            let event = if online {
                ServerEvent::UserOnline(presence)
            } else {
                ServerEvent::UserOffline(presence)
            };
            match chat.contacts(user).await {
                Ok(contacts) => hub.broadcast_to_users(contacts, &event_frame(&event)),
                Err(error) => tracing::warn!(%error, %user, "presence not announced"),
            }
        });
    }
}
