//! The seed's chat over Socket.IO: authentication at CONNECT, the client events
//! (`join_conversation`, `send_message`, `typing`, ...), rooms, presence, and the hub that
//! delivers what the domain announces.

mod events;
mod handler;
mod hub;
mod order;
mod rooms;

use std::future::Future;

use chat_domain::UserId;

pub use handler::ChatRealtime;
pub use hub::Hub;
pub use rooms::Room;

/// Verifies a client's token; the server plugs in the same verification as REST.
pub trait Authenticate: Send + Sync + 'static {
    /// The user a valid token names, or `None`.
    fn authenticate(&self, token: &str) -> impl Future<Output = Option<UserId>> + Send;
}
