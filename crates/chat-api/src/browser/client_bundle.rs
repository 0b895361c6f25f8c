//! The `socket.io-client` bundle, served beside the Socket.IO endpoint as the Node server
//! serves it (`socket.io/lib/index.ts`, `serve`): `/socket.io/socket.io.js`, `.min.js`,
//! `.esm.min.js`, `.msgpack.min.js` and their `.map` files, so that a page written against
//! the Node service (`<script src="/socket.io/socket.io.js">`) works unchanged. The files are
//! read once at start-up from the package's `dist/` directory and kept in memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;

use super::static_file::StaticFile;
use crate::ApiError;

/// The files the Node server serves (its `CLIENT_FILES`), each under `/socket.io/`.
pub const CLIENT_FILES: [&str; 8] = [
    "socket.io.js",
    "socket.io.js.map",
    "socket.io.min.js",
    "socket.io.min.js.map",
    "socket.io.esm.min.js",
    "socket.io.esm.min.js.map",
    "socket.io.msgpack.min.js",
    "socket.io.msgpack.min.js.map",
];

/// The file that must be there for the directory to count as the bundle.
const REQUIRED: &str = "socket.io.js";

/// The Node server's cache policy: a browser may keep the file but asks each time whether it
/// changed (an `If-None-Match` answered 304 while it has not).
const CACHE_CONTROL: &str = "public, max-age=0";

/// Why the bundle could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The directory has no `socket.io.js` (the package is not installed there).
    #[error("no socket.io-client bundle in {}: {REQUIRED} is missing", dir.display())]
    Missing {
        /// The directory looked in.
        dir: PathBuf,
    },
    /// A file is there but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why the system refused.
        source: std::io::Error,
    },
}

/// The bundle's files in memory, by name (those of [`CLIENT_FILES`] the directory holds).
#[derive(Debug)]
pub struct ClientBundle {
    files: HashMap<&'static str, StaticFile>,
}

impl ClientBundle {
    /// Reads the bundle from `dir` (the package's `dist/`): every file of [`CLIENT_FILES`]
    /// that is there (a package without the msgpack build serves the others).
    ///
    /// # Errors
    /// [`BundleError::Missing`] when `dir` has no `socket.io.js`; [`BundleError::Unreadable`]
    /// when a file that is there cannot be read.
    pub fn load(dir: &Path) -> Result<ClientBundle, BundleError> {
        let mut files = HashMap::new();
        for name in CLIENT_FILES {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    files.insert(
                        name,
                        StaticFile::new(content_type(name), Bytes::from(bytes)),
                    );
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(BundleError::Unreadable { path, source }),
            }
        }
        if !files.contains_key(REQUIRED) {
            return Err(BundleError::Missing {
                dir: dir.to_owned(),
            });
        }
        Ok(ClientBundle { files })
    }
}

/// The Node server's content types: JavaScript for the bundles, JSON for the source maps.
fn content_type(name: &str) -> &'static str {
    if name.ends_with(".map") {
        "application/json; charset=utf-8"
    } else {
        "application/javascript; charset=utf-8"
    }
}

/// `GET /socket.io/{file}`: one file of the bundle; a name the bundle does not hold is the
/// 404 of any unknown path.
pub(crate) async fn client_file(
    request: HttpRequest,
    file: web::Path<String>,
    bundle: web::Data<ClientBundle>,
) -> Result<HttpResponse, ApiError> {
    bundle
        .files
        .get(file.as_str())
        .map(|found| found.respond(&request, CACHE_CONTROL))
        .ok_or(ApiError::NoSuchPath)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_directory_without_the_bundle_is_reported_with_its_path() {
        let dir = std::env::temp_dir().join("chat-no-client-bundle-here");
        let error = ClientBundle::load(&dir).unwrap_err();
        assert!(matches!(error, BundleError::Missing { .. }));
        assert!(error.to_string().contains("chat-no-client-bundle-here"));
    }

    #[test]
    fn maps_are_json_and_bundles_javascript() {
        assert!(content_type("socket.io.min.js.map").starts_with("application/json"));
        assert!(content_type("socket.io.esm.min.js").starts_with("application/javascript"));
    }
}
