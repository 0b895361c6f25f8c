//! The Engine.IO server: the map of open sessions, the HTTP entry point that actix-web routes
//! to, and shutdown. Each request is checked as the reference server checks it, then handed to
//! the polling or the WebSocket transport.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use actix_web::{HttpRequest, HttpResponse, http::Method, web};
use tokio::time::Instant;

use super::{
    config::EngineConfig,
    handler::{DisconnectReason, EngineHandler, HandshakeRequest},
    open::TransportKind,
    polling,
    request::{self, EngineQuery, Route},
    socket::{EngineSocket, Session},
    websocket,
};

/// An Engine.IO v4 server that hands its sessions to `H` (the Socket.IO layer, or an echo in
/// the conformance example). Mount it with [`Engine::configure`].
pub struct Engine<H> {
    config: Arc<EngineConfig>,
    handler: Arc<H>,
    /// Open sessions by sid. A std mutex: held only to insert, find or remove, never across an
    /// await nor a handler call.
    sessions: Mutex<HashMap<String, EngineSocket>>,
    /// The number of sessions, for [`Engine::wait_closed`].
    count: tokio::sync::watch::Sender<usize>,
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with no session yet.
    pub fn new(config: EngineConfig, handler: Arc<H>) -> Self {
        Self {
            config: Arc::new(config),
            handler,
            sessions: Mutex::new(HashMap::new()),
            count: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The settings every session uses.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The handler sessions are handed to.
    pub fn handler(&self) -> &Arc<H> {
        &self.handler
    }

    /// Routes GET and POST (and every other method, to answer them as the reference does) on
    /// `path`, with and without its trailing slash: `/socket.io/` for Socket.IO, `/engine.io/`
    /// for the bare protocol. Wrap the app in CORS middleware if browsers of other origins
    /// connect.
    pub fn configure(self: Arc<Self>, cfg: &mut web::ServiceConfig, path: &str) {
        let base = path.trim_end_matches('/');
        let paths = if base.is_empty() {
            vec!["/".to_owned()]
        } else {
            vec![base.to_owned(), format!("{base}/")]
        };
        let engine = self;
        cfg.service(web::resource(paths).route(web::route().to(
            move |request: HttpRequest, body: web::Payload| {
                let engine = Arc::clone(&engine);
                async move { engine.handle(request, body).await }
            },
        )));
    }

    /// How many sessions are open.
    pub fn session_count(&self) -> usize {
        self.sessions().len()
    }

    /// The open session with this sid, if any.
    pub fn socket(&self, sid: &str) -> Option<EngineSocket> {
        self.sessions().get(sid).cloned()
    }

    /// Closes every session, for shutdown: each gets the Engine.IO `close` packet where its
    /// transport allows, and `on_close` with `reason`, from its own task shortly after. Await
    /// [`Engine::wait_closed`] to know when they are all gone.
    pub fn close_all(&self, reason: DisconnectReason) {
        let sockets: Vec<EngineSocket> = self.sessions().values().cloned().collect();
        for socket in sockets {
            socket.close(reason);
        }
    }

    /// Resolves once no session is open (at once if none is).
    pub async fn wait_closed(&self) {
        let mut count = self.count.subscribe();
        // The sender lives in `self`, so the wait can only end with a count of zero.
        let _ = count.wait_for(|open| *open == 0).await;
    }

    /// Answers one request on the engine's path.
    async fn handle(self: Arc<Self>, request: HttpRequest, body: web::Payload) -> HttpResponse {
        let upgrade = request::is_websocket_upgrade(&request);
        let query = match EngineQuery::parse(request.query_string()) {
            Ok(query) => query,
            Err(error) => return error.response(upgrade),
        };
        let route = request::route(&query, request.method(), upgrade, |sid| {
            let socket = self.socket(sid)?;
            // The heartbeat is due now even if its task has not woken yet: a session whose
            // pong is late is closed before this request can see it.
            socket.session.beat(Instant::now());
            let state = socket.session.state();
            let transport = state.transport;
            let usable = state.closed.is_none() || state.awaits_final_poll();
            drop(state);
            usable.then_some((socket, transport))
        });
        match route {
            Err(error) => error.response(upgrade),
            Ok(Route::Handshake(TransportKind::Polling)) => {
                polling::handshake(&self, &request, query)
            }
            Ok(Route::Handshake(TransportKind::Websocket)) => {
                websocket::handshake(self, &request, body, query)
            }
            Ok(Route::Session(socket)) if upgrade => {
                websocket::upgrade(self, &request, body, socket)
            }
            Ok(Route::Session(socket)) => match *request.method() {
                Method::GET => polling::poll(&self, &socket).await,
                Method::POST => polling::post(&self, &socket, &request, body).await,
                // The reference's polling transport ends other methods with a bare 500.
                _ => HttpResponse::InternalServerError().finish(),
            },
        }
    }

    /// Opens a session and adds it to the map.
    pub(super) fn open(&self, transport: TransportKind) -> EngineSocket {
        let sid = uuid::Uuid::new_v4().simple().to_string();
        let session = Session::new(sid.clone(), transport, Arc::clone(&self.config));
        let socket = EngineSocket {
            session: Arc::new(session),
        };
        let mut sessions = self.sessions();
        sessions.insert(sid, socket.clone());
        let open = sessions.len();
        drop(sessions);
        self.count.send_replace(open);
        tracing::debug!(sid = socket.id(), %transport, "engine.io session opened");
        socket
    }

    /// Ends a closed session for the task that drives it over `transport`: removes it from the
    /// map and calls `on_close`, once (a no-op if not yet due or already done).
    pub(super) fn finish(&self, socket: &EngineSocket, transport: TransportKind) {
        let Some(reason) = socket.session.take_teardown(transport) else {
            return;
        };
        let mut sessions = self.sessions();
        sessions.remove(socket.id());
        let open = sessions.len();
        drop(sessions);
        tracing::debug!(sid = socket.id(), %reason, "engine.io session closed");
        self.handler.on_close(socket, reason);
        self.count.send_replace(open);
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, EngineSocket>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the layer above is told about the request that opens a session.
pub(super) fn handshake_request(request: &HttpRequest, query: EngineQuery) -> HandshakeRequest {
    HandshakeRequest {
        headers: request.headers().into(),
        query: query.pairs,
        peer: request.peer_addr(),
    }
}
