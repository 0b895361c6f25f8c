//! What every handler shares: the service and nothing lower-level (no pool, no SQL).

use chat_domain::ChatService;

/// The state handed to handlers; generic over the store and the event sink so that the
/// composition root picks them.
pub struct AppState<S, E> {
    /// The chat rules, over the configured store.
    pub chat: ChatService<S, E>,
}

impl<S, E> AppState<S, E> {
    /// State around a service.
    pub fn new(chat: ChatService<S, E>) -> Self {
        AppState { chat }
    }
}
