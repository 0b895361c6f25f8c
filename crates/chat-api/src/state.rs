//! What every handler shares: the services and the API's settings, nothing lower-level (no
//! pool, no SQL).

use std::time::Duration;

use chat_domain::{Accounts, ChatService};

use crate::auth::{Argon2Hasher, TokenIssuer};

/// Settings of the HTTP surface itself. Its `Debug` output leaves the admin token out.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// Largest JSON body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// The bearer token of the server-to-server admin API; `None` turns that API off.
    pub admin_token: Option<String>,
    /// How long tokens issued to built-in accounts live.
    pub token_ttl: Duration,
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "***"))
            .field("token_ttl", &self.token_ttl)
            .finish()
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            max_body_bytes: 64 * 1024,
            admin_token: None,
            token_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

/// Built-in accounts and the issuer of their tokens, present when accounts are on.
pub struct BuiltinAccounts<S> {
    /// Registration and login.
    pub accounts: Accounts<S, Argon2Hasher>,
    /// Signs the tokens handed out at login.
    pub issuer: TokenIssuer,
}

/// The state handed to handlers; generic over the store and the event sink so that the
/// composition root picks them.
pub struct AppState<S, E> {
    /// The chat rules, over the configured store.
    pub chat: ChatService<S, E>,
    /// Built-in accounts, when turned on.
    pub accounts: Option<BuiltinAccounts<S>>,
    /// The API's own settings.
    pub settings: ApiSettings,
    /// The client bundle and the web app, when served.
    pub web: crate::WebSurface,
}
