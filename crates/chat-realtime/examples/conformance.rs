//! The conformance server: an Engine.IO echo endpoint at `/engine.io/` on port 3000 with the
//! reference configuration (pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6, CORS for
//! any origin), exactly what the official suite of `socketio/engine.io-protocol` (its
//! `test-suite/` folder) expects. See `docs/realtime-conformance.md` for how to run the suite.
//!
//! ```text
//! cargo run -p chat-realtime --example conformance      # then, in the suite: npx mocha test-suite.js
//! ```
//!
//! `PORT` overrides the port.

use std::{io, sync::Arc, time::Duration};

use actix_cors::Cors;
use actix_web::{App, HttpServer, web};
use chat_realtime::engineio::{
    DisconnectReason, Engine, EngineConfig, EngineHandler, EngineMessage, EngineSocket, Frame,
    HandshakeRequest,
};

/// Sends every message back to its sender, as the suite's reference server does.
struct Echo;

impl EngineHandler for Echo {
    fn on_open(&self, _socket: EngineSocket, _request: &HandshakeRequest) {}

    fn on_message(&self, socket: &EngineSocket, message: EngineMessage) {
        let frame = match message {
            EngineMessage::Text(text) => Frame::message(&*text),
            EngineMessage::Binary(bytes) => Frame::binary(bytes),
        };
        // A full queue closes the session by itself; nothing else to do here.
        let _ = socket.send(frame);
    }

    fn on_close(&self, _socket: &EngineSocket, _reason: DisconnectReason) {}
}

/// The configuration the suite's README gives for the reference server.
fn reference_config() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
        ..EngineConfig::default()
    }
}

/// THE PLACE FOR THE SOCKET.IO ENDPOINT: mounts `/socket.io/` for the Socket.IO conformance
/// suite (`socketio/socket.io-protocol`). Empty until the Socket.IO server is wired in here,
/// for example with
/// `Arc::new(Engine::new(config, Arc::new(socket_io_server))).configure(cfg, "/socket.io")`.
fn mount_socketio(_cfg: &mut web::ServiceConfig) {}

#[actix_web::main]
async fn main() -> io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or(3000);
    let engine = Arc::new(Engine::new(reference_config(), Arc::new(Echo)));
    let server = HttpServer::new(move || {
        let engine = Arc::clone(&engine);
        App::new().wrap(Cors::permissive()).configure(move |cfg| {
            engine.configure(cfg, "/engine.io");
            mount_socketio(cfg);
        })
    })
    // Every address of localhost (127.0.0.1 and ::1): the suite connects to `localhost`.
    .bind(("localhost", port))?
    .run();
    eprintln!("Engine.IO conformance server on http://localhost:{port}/engine.io/");
    server.await
}
