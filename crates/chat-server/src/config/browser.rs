//! What the server serves to browsers: the `socket.io-client` bundle (`CHAT_SERVE_CLIENT`,
//! `CHAT_CLIENT_DIR`) and the web app (`CHAT_WEB_APP`).

use std::path::PathBuf;

use super::{ConfigError, Source, parsed};

/// Where the bundle is looked for by default, relative to the working directory: where
/// `npm ci` in `web/` (which `cargo xtask run` and `cargo xtask test` do) puts it.
pub const DEFAULT_CLIENT_DIR: &str = "web/node_modules/socket.io-client/dist";

/// The browser-facing parts and where the bundle comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSettings {
    /// Whether `/socket.io/socket.io.js` and the rest of the bundle are served
    /// (`CHAT_SERVE_CLIENT`, default true, as the Node server's `serveClient`).
    pub serve_client: bool,
    /// The bundle's directory, the package's `dist/` (`CHAT_CLIENT_DIR`, default
    /// [`DEFAULT_CLIENT_DIR`]).
    pub client_dir: PathBuf,
    /// Whether the web app is served at `/` (`CHAT_WEB_APP`, default true).
    pub web_app: bool,
}

pub(super) fn browser(src: &impl Source) -> Result<BrowserSettings, ConfigError> {
    Ok(BrowserSettings {
        serve_client: parsed(src, "CHAT_SERVE_CLIENT", true, "true or false")?,
        client_dir: src
            .get("CHAT_CLIENT_DIR")
            .map_or_else(|| PathBuf::from(DEFAULT_CLIENT_DIR), PathBuf::from),
        web_app: parsed(src, "CHAT_WEB_APP", true, "true or false")?,
    })
}
