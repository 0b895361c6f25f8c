//! Black-box tests of the Engine.IO server: a real actix-web server on port 0 with an echo
//! handler, driven by raw HTTP long-polling and WebSocket clients.

// Tests may unwrap: a failed unwrap is a failed test, with its message (clippy.toml allows it
// only in #[test] functions, not in the helpers these tests share).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod handshake;
mod heartbeat;
mod limits;
mod polling;
mod raw;
mod shutdown;
mod upgrade;
