//! The seed's chat over Socket.IO: authentication at CONNECT, the client events
//! (`join_conversation`, `send_message`, `typing`, ...), rooms, presence, and the hub that
//! delivers what the domain announces.

mod bus;
mod delivery;
#[cfg(test)]
mod delivery_tests;
mod events;
mod handler;
mod hub;
mod order;
mod presence;
mod recovery;
mod relay;
mod resume;
mod rooms;
mod session;

use std::future::Future;
use std::time::SystemTime;

use chat_domain::UserId;

pub use bus::{Bus, LocalBus};
pub use delivery::{Backfill, BoxFuture, StoreBackfill};
pub use handler::ChatRealtime;
pub use hub::{Hub, HubConfig};
pub use presence::{AnnouncePresence, PresenceAnnouncer, PresenceRegistry};
pub use recovery::RecoveryConfig;
pub use relay::{Peers, Relay, RelayTarget};
pub use rooms::Room;
pub use session::ChatSession;

/// Verifies a client's token; the server plugs in the same verification as REST.
pub trait Authenticate: Send + Sync + 'static {
    /// Who a valid token names and until when the socket may stay, or why not.
    fn authenticate(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Authenticated, AuthFailure>> + Send;
}

/// A verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// The user the token names (provisioned by now).
    pub user: UserId,
    /// When the token stops being accepted (its `exp` plus the verifier's leeway): the socket
    /// is disconnected then. `None` for a token that never expires.
    pub valid_until: Option<SystemTime>,
}

/// Why a token gave no user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No token, a bad signature, an expired token: the client gets "Authentication error".
    Refused,
    /// The token could not be checked (the store that provisions users is unavailable): the
    /// connection is closed so that the client retries by itself, never told its credentials
    /// are wrong.
    Unavailable,
}
