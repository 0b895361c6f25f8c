//! The Engine.IO server: the map of open sessions, the HTTP entry point that actix-web routes
//! to, and shutdown. Each request is checked as the reference server checks it, then handed to
//! the polling or the WebSocket transport.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
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
use crate::observability;
use chat_domain::NoticeBudget;

/// The open sessions, by sid and by client address.
#[derive(Default)]
struct Sessions {
    by_sid: HashMap<String, EngineSocket>,
    /// Open sessions per client IP address, for `max_sessions_per_ip`; an address with none
    /// has no entry.
    by_ip: HashMap<IpAddr, usize>,
}

/// An Engine.IO v4 server that hands its sessions to `H` (the Socket.IO layer, or an echo in
/// the conformance example). Mount it with [`Engine::configure`].
pub struct Engine<H> {
    config: Arc<EngineConfig>,
    handler: Arc<H>,
    /// Open sessions. A std mutex: held only to insert, find or remove, never across an await
    /// nor a handler call.
    sessions: Mutex<Sessions>,
    /// The number of sessions, for [`Engine::wait_closed`].
    count: tokio::sync::watch::Sender<usize>,
    /// Handshakes refused because their address had `max_sessions_per_ip` sessions open.
    refused: AtomicU64,
    /// The budget of the log lines about sessions closed or refused on purpose.
    notices: NoticeBudget,
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with no session yet.
    pub fn new(config: EngineConfig, handler: Arc<H>) -> Self {
        Self {
            config: Arc::new(config),
            handler,
            sessions: Mutex::default(),
            count: tokio::sync::watch::Sender::new(0),
            refused: AtomicU64::new(0),
            notices: NoticeBudget::default(),
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
        self.sessions().by_sid.len()
    }

    /// How many handshakes were refused since start-up because their client address had
    /// `max_sessions_per_ip` sessions open (each was answered HTTP 429).
    pub fn refused_sessions(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// How many log lines about closed or refused sessions were dropped to keep a flood from
    /// flooding the log.
    pub fn suppressed_notices(&self) -> u64 {
        self.notices.suppressed()
    }

    /// The open session with this sid, if any.
    pub fn socket(&self, sid: &str) -> Option<EngineSocket> {
        self.sessions().by_sid.get(sid).cloned()
    }

    /// Closes every session, for shutdown: each gets the Engine.IO `close` packet where its
    /// transport allows, and `on_close` with `reason`, from its own task shortly after. Await
    /// [`Engine::wait_closed`] to know when they are all gone.
    pub fn close_all(&self, reason: DisconnectReason) {
        let sockets: Vec<EngineSocket> = self.sessions().by_sid.values().cloned().collect();
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

    /// Opens a session for a client at `peer` and adds it to the map; `None` (logged and
    /// counted) when that address already has `max_sessions_per_ip` sessions open.
    pub(super) fn open(
        &self,
        transport: TransportKind,
        peer: Option<SocketAddr>,
    ) -> Option<EngineSocket> {
        let sid = uuid::Uuid::new_v4().simple().to_string();
        let mut session = Session::new(sid.clone(), transport, Arc::clone(&self.config));
        session.peer = peer;
        let socket = EngineSocket {
            session: Arc::new(session),
        };
        let mut sessions = self.sessions();
        if let Some(ip) = peer.map(|peer| peer.ip()) {
            let count = sessions.by_ip.entry(ip).or_default();
            if *count >= self.config.max_sessions_per_ip {
                drop(sessions);
                self.refused.fetch_add(1, Ordering::Relaxed);
                metrics::counter!(chat_domain::REFUSALS_METRIC, "limit" => "sessions_per_address")
                    .increment(1);
                if let Some(held) = self.notices.admit("too_many_sessions_per_ip") {
                    tracing::info!(
                        peer = %ip,
                        limit = self.config.max_sessions_per_ip,
                        suppressed = held,
                        "engine.io handshake refused: too many sessions from this address"
                    );
                }
                return None;
            }
            *count += 1;
        }
        sessions.by_sid.insert(sid, socket.clone());
        let open = sessions.by_sid.len();
        drop(sessions);
        observability::session_opened(transport);
        self.count.send_replace(open);
        tracing::debug!(sid = socket.id(), %transport, "engine.io session opened");
        Some(socket)
    }

    /// Ends a closed session for the task that drives it over `transport`: removes it from the
    /// map and calls `on_close`, once (a no-op if not yet due or already done).
    pub(super) fn finish(&self, socket: &EngineSocket, transport: TransportKind) {
        let Some(reason) = socket.session.take_teardown(transport) else {
            return;
        };
        let mut sessions = self.sessions();
        sessions.by_sid.remove(socket.id());
        if let Some(ip) = socket.peer().map(|peer| peer.ip())
            && let Some(count) = sessions.by_ip.get_mut(&ip)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                sessions.by_ip.remove(&ip);
            }
        }
        let open = sessions.by_sid.len();
        drop(sessions);
        observability::session_closed(transport, reason);
        self.log_close(socket, reason);
        self.handler.on_close(socket, reason);
        self.count.send_replace(open);
    }

    /// One line per session the server closed on purpose, at `info` within the notice
    /// budget; every other end at `debug`.
    fn log_close(&self, socket: &EngineSocket, reason: DisconnectReason) {
        if !reason.is_deliberate() {
            tracing::debug!(sid = socket.id(), %reason, "engine.io session closed");
            return;
        }
        if let Some(held) = self.notices.admit(reason.as_str()) {
            let peer = socket.peer().map(|peer| peer.ip().to_string());
            tracing::info!(
                %reason,
                peer = peer.as_deref().unwrap_or("-"),
                user = socket.user().unwrap_or("-"),
                sid = socket.id(),
                suppressed = held,
                "connection closed by the server"
            );
        }
    }

    fn sessions(&self) -> MutexGuard<'_, Sessions> {
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
