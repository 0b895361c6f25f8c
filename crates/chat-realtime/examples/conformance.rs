//! The conformance server: an Engine.IO echo endpoint at `/engine.io/` and a Socket.IO server
//! at `/socket.io/`, on port 3000 with the reference configuration (pingInterval 300 ms,
//! pingTimeout 200 ms, maxPayload 1e6, connectTimeout 1000 ms, CORS for any origin), exactly
//! what the official suites of `socketio/engine.io-protocol` and `socketio/socket.io-protocol`
//! (their `test-suite/` folders) expect. See `docs/realtime-conformance.md` for how to run them.
//!
//! ```text
//! cargo run -p chat-realtime --example conformance      # then, in the suite: npx mocha test-suite.js
//! ```
//!
//! `PORT` overrides the port.

use std::{io, sync::Arc, time::Duration};

use actix_cors::Cors;
use actix_web::{App, HttpServer};
use chat_realtime::engineio::{
    DisconnectReason, Engine, EngineConfig, EngineHandler, EngineMessage, EngineSocket, Frame,
    HandshakeRequest,
};
use chat_realtime::socketio::{
    ConnectRefusal, Data, Namespace, Packet, PacketData, SioSocket, SocketIoConfig,
    SocketIoHandler, SocketIoServer,
};
use serde_json::{Map, Value};

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

/// The Socket.IO side of the suite: on `/` and `/custom`, emit `auth` with the handshake's
/// auth, answer `message` with `message-back` (same arguments) and acknowledge
/// `message-with-ack` with the same arguments.
struct SocketIoEcho;

impl SocketIoHandler for SocketIoEcho {
    type Session = Option<Map<String, Value>>;

    fn accepts(&self, namespace: &Namespace) -> bool {
        matches!(namespace.as_str(), "/" | "/custom")
    }

    async fn connect(
        &self,
        _socket: SioSocket,
        auth: Option<Map<String, Value>>,
        _request: Arc<HandshakeRequest>,
    ) -> Result<Self::Session, ConnectRefusal> {
        Ok(auth)
    }

    fn on_connected(&self, socket: &SioSocket, auth: &Self::Session) {
        let auth = Value::Object(auth.clone().unwrap_or_default());
        let _ = socket.emit("auth", vec![auth]);
    }

    async fn on_event(
        &self,
        socket: &SioSocket,
        _auth: &Self::Session,
        name: String,
        args: Vec<Data>,
    ) -> Vec<Data> {
        match name.as_str() {
            "message" => {
                let back = PacketData::event_with_binary("message-back", args, None);
                let _ = socket.send_packet(&Packet::new(socket.namespace().clone(), back));
                Vec::new()
            }
            _ => args,
        }
    }

    fn on_disconnect(&self, _socket: &SioSocket, _auth: Self::Session, _reason: DisconnectReason) {}
}

/// The Socket.IO server of the suite, with its connect timeout.
fn socketio_engine() -> Arc<Engine<SocketIoServer<SocketIoEcho>>> {
    let config = SocketIoConfig {
        connect_timeout: Duration::from_millis(1000),
        ..SocketIoConfig::default()
    };
    let server = SocketIoServer::new(Arc::new(SocketIoEcho), config);
    Arc::new(Engine::new(reference_config(), Arc::new(server)))
}

#[actix_web::main]
async fn main() -> io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or(3000);
    let engine = Arc::new(Engine::new(reference_config(), Arc::new(Echo)));
    let socketio = socketio_engine();
    let server = HttpServer::new(move || {
        let (engine, socketio) = (Arc::clone(&engine), Arc::clone(&socketio));
        App::new().wrap(Cors::permissive()).configure(move |cfg| {
            engine.configure(cfg, "/engine.io");
            socketio.configure(cfg, "/socket.io");
        })
    })
    // Every address of localhost (127.0.0.1 and ::1): the suite connects to `localhost`.
    .bind(("localhost", port))?
    .run();
    eprintln!("conformance server on http://localhost:{port}/engine.io/ and /socket.io/");
    server.await
}
