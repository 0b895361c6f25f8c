//! What the server serves to browsers besides the API: the `socket.io-client` bundle under
//! `/socket.io/` ([`ClientBundle`]) and the web app at `/`, each from memory with an ETag.

mod app;
mod client_bundle;
mod static_file;

pub(crate) use app::{asset as app_asset, index as app_index};
pub(crate) use client_bundle::client_file;
pub use client_bundle::{BundleError, CLIENT_FILES, ClientBundle};

use std::sync::Arc;

/// Which browser-facing parts are on; an off part's paths answer 404 like unknown ones.
#[derive(Debug, Clone, Default)]
pub struct WebSurface {
    /// The client bundle, when serving it is on and it was found at start-up.
    pub client_bundle: Option<Arc<ClientBundle>>,
    /// Whether the web app is served at `/`.
    pub app: bool,
}
