//! A test server on port 0 with a recording echo handler, and small raw clients: HTTP
//! long-polling over reqwest, WebSocket over tokio-tungstenite. Every wait has a timeout, so a
//! missing event fails the test instead of hanging it.

use std::{collections::VecDeque, future::Future, net::TcpListener, sync::Arc, time::Duration};

use actix_web::{App, HttpServer, dev::ServerHandle};
use chat_realtime::engineio::{
    DisconnectReason, Engine, EngineConfig, EngineHandler, EngineMessage, EngineSocket, Frame,
    HandshakeRequest,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::{net::TcpStream, sync::mpsc};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};

/// How long any single expected event may take.
pub(crate) const PATIENCE: Duration = Duration::from_secs(5);

/// What the handler saw, in order.
#[derive(Debug)]
pub(crate) enum Event {
    Open(EngineSocket, Box<HandshakeRequest>),
    Message(String, EngineMessage),
    Close(String, DisconnectReason),
}

/// Records every call and echoes every message back to its sender.
pub(crate) struct Recorder {
    events: mpsc::UnboundedSender<Event>,
}

impl EngineHandler for Recorder {
    fn on_open(&self, socket: EngineSocket, request: &HandshakeRequest) {
        let _ = self
            .events
            .send(Event::Open(socket, Box::new(request.clone())));
    }

    fn on_message(&self, socket: &EngineSocket, message: EngineMessage) {
        let echo = match &message {
            EngineMessage::Text(text) => Frame::message(&**text),
            EngineMessage::Binary(bytes) => Frame::binary(bytes.clone()),
        };
        let _ = socket.send(echo);
        let _ = self
            .events
            .send(Event::Message(socket.id().to_owned(), message));
    }

    fn on_close(&self, socket: &EngineSocket, reason: DisconnectReason) {
        let _ = self
            .events
            .send(Event::Close(socket.id().to_owned(), reason));
    }
}

/// Awaits `future`, failing the test after [`PATIENCE`].
pub(crate) async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A running server with the engine at `/engine.io/`.
pub(crate) struct TestServer {
    pub(crate) engine: Arc<Engine<Recorder>>,
    pub(crate) base: String,
    pub(crate) ws_base: String,
    events: mpsc::UnboundedReceiver<Event>,
    backlog: VecDeque<Event>,
    http: reqwest::Client,
    handle: ServerHandle,
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 with `config`.
    pub(crate) async fn spawn(config: EngineConfig) -> Self {
        let (sender, events) = mpsc::unbounded_channel();
        let engine = Arc::new(Engine::new(config, Arc::new(Recorder { events: sender })));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let app_engine = Arc::clone(&engine);
        let server = HttpServer::new(move || {
            let engine = Arc::clone(&app_engine);
            App::new().configure(move |cfg| engine.configure(cfg, "/engine.io"))
        })
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            engine,
            base: format!("http://127.0.0.1:{port}/engine.io/"),
            ws_base: format!("ws://127.0.0.1:{port}/engine.io/"),
            events,
            backlog: VecDeque::new(),
            http: reqwest::Client::new(),
            handle,
        }
    }

    /// The next event the handler saw (events set aside by the searches below first).
    pub(crate) async fn event(&mut self) -> Event {
        if let Some(event) = self.backlog.pop_front() {
            return event;
        }
        within("a handler event", self.events.recv())
            .await
            .expect("the handler is alive")
    }

    /// The first event that `pick` accepts; the others stay, in order, for later.
    async fn find<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        if let Some(at) = self.backlog.iter().position(|event| pick(event).is_some()) {
            let event = self.backlog.remove(at).expect("found above");
            return pick(&event).expect("found above");
        }
        loop {
            let event = within("a handler event", self.events.recv())
                .await
                .expect("the handler is alive");
            match pick(&event) {
                Some(found) => return found,
                None => self.backlog.push_back(event),
            }
        }
    }

    /// The socket of the next session opened.
    pub(crate) async fn opened(&mut self) -> (EngineSocket, HandshakeRequest) {
        self.find(|event| match event {
            Event::Open(socket, request) => Some((socket.clone(), (**request).clone())),
            _ => None,
        })
        .await
    }

    /// Why the session `sid` ended.
    pub(crate) async fn closed(&mut self, sid: &str) -> DisconnectReason {
        self.find(|event| match event {
            Event::Close(closed, reason) if closed == sid => Some(*reason),
            _ => None,
        })
        .await
    }

    /// A GET on the engine's path with `query`: status and body.
    pub(crate) async fn get(&self, query: &str) -> (u16, String) {
        let response = within(
            "a GET",
            self.http.get(format!("{}?{query}", self.base)).send(),
        )
        .await
        .unwrap();
        let status = response.status().as_u16();
        (status, within("a GET body", response.text()).await.unwrap())
    }

    /// A POST of `body` on the engine's path with `query`: status and body.
    pub(crate) async fn post(&self, query: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let request = self.http.post(format!("{}?{query}", self.base)).body(body);
        let response = within("a POST", request.send()).await.unwrap();
        let status = response.status().as_u16();
        (
            status,
            within("a POST body", response.text()).await.unwrap(),
        )
    }

    /// Opens a polling session: its sid and handshake JSON.
    pub(crate) async fn handshake(&self) -> (String, Value) {
        let (status, body) = self.get("EIO=4&transport=polling").await;
        assert_eq!(status, 200, "handshake answered {body}");
        let open: Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
        (open["sid"].as_str().unwrap().to_owned(), open)
    }

    /// Opens a WebSocket to the engine with `query`.
    pub(crate) async fn websocket(&self, query: &str) -> Ws {
        let url = format!("{}?{query}", self.ws_base);
        let (ws, _) = within("a WebSocket", tokio_tungstenite::connect_async(url))
            .await
            .unwrap();
        Ws(ws)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A raw WebSocket client.
pub(crate) struct Ws(pub(crate) WebSocketStream<MaybeTlsStream<TcpStream>>);

/// What a WebSocket client receives.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    Text(String),
    Binary(Vec<u8>),
    Closed,
}

impl Ws {
    pub(crate) async fn send_text(&mut self, text: &str) {
        within("a WebSocket send", self.0.send(Message::text(text)))
            .await
            .unwrap();
    }

    /// The next data frame, or `Closed` once the server closed (or dropped) the connection.
    pub(crate) async fn recv(&mut self) -> Received {
        loop {
            match within("a WebSocket frame", self.0.next()).await {
                Some(Ok(Message::Text(text))) => return Received::Text(text.as_str().to_owned()),
                Some(Ok(Message::Binary(bytes))) => return Received::Binary(bytes.to_vec()),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => return Received::Closed,
            }
        }
    }

    /// The next text frame, failing on anything else.
    pub(crate) async fn recv_text(&mut self) -> String {
        match self.recv().await {
            Received::Text(text) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Reads the `open` packet of a WebSocket-only session: its handshake JSON.
    pub(crate) async fn open_packet(&mut self) -> Value {
        let text = self.recv_text().await;
        serde_json::from_str(text.strip_prefix('0').unwrap()).unwrap()
    }

    /// Reads until the server closes the connection; returns the text frames seen before.
    pub(crate) async fn until_closed(&mut self) -> Vec<String> {
        let mut texts = Vec::new();
        loop {
            match self.recv().await {
                Received::Text(text) => texts.push(text),
                Received::Binary(_) => {}
                Received::Closed => return texts,
            }
        }
    }
}

/// A configuration with a quick heartbeat for heartbeat tests.
pub(crate) fn quick_heartbeat() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(100),
        ..EngineConfig::default()
    }
}

/// A configuration whose heartbeat never fires during a test.
pub(crate) fn no_heartbeat() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_secs(60),
        ping_timeout: Duration::from_secs(60),
        ..EngineConfig::default()
    }
}
