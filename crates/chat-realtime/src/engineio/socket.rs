//! One Engine.IO session: its bounded outbound queue, shared by the polling and WebSocket
//! transports, its heartbeat, its upgrade state and the one-time close. [`EngineSocket`] is the
//! handle the layer above keeps; the transports drive the same state from their tasks.

use std::{
    collections::VecDeque,
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError},
};

use bytestring::ByteString;
use tokio::{
    sync::{Notify, watch},
    time::Instant,
};

use super::{
    config::EngineConfig,
    frame::Frame,
    handler::DisconnectReason,
    heartbeat::{Beat, Heartbeat},
    open::TransportKind,
};

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closed (or closing): nothing more goes to this client.
    #[error("the Engine.IO session is closed")]
    Closed,
    /// The outbound queue was full: the client reads too slowly, and the session has just been
    /// closed with [`DisconnectReason::SlowClient`].
    #[error("the client is too slow: its outbound queue is full, the session was closed")]
    QueueFull,
}

/// A handle on one Engine.IO session, cheap to clone (an `Arc` inside). The layer above keeps
/// it to send frames and to close the session; it never blocks.
#[derive(Clone)]
pub struct EngineSocket {
    pub(super) session: Arc<Session>,
}

impl EngineSocket {
    /// The session id (`sid`) the client sends back on every request.
    pub fn id(&self) -> &str {
        &self.session.id
    }

    /// The transport the session currently uses (`websocket` once upgraded).
    pub fn transport(&self) -> TransportKind {
        self.session.state().transport
    }

    /// Queues a message packet (the caller passes an already-encoded Engine.IO frame, e.g.
    /// `Frame::message(&socketio_packet)`); never blocks. When the bounded queue is full the
    /// client is too slow: the session is closed with [`DisconnectReason::SlowClient`] and
    /// `Err` returned.
    pub fn send(&self, frame: Frame) -> Result<(), SendError> {
        self.session.push(frame)
    }

    /// Server-initiated close: frames already queued go out, then the Engine.IO `close` packet
    /// where the transport allows it, so that the client reconnects. `reason` is what
    /// [`EngineHandler::on_close`](super::EngineHandler::on_close) receives (unless the session
    /// was already closing for another reason).
    pub fn close(&self, reason: DisconnectReason) {
        self.session.close(reason);
    }

    /// Whether the session is closed or closing; a closed session refuses frames.
    pub fn is_closed(&self) -> bool {
        self.session.state().closed.is_some()
    }

    /// The address of the client that opened the session, as the TCP connection saw it (a
    /// proxy's, behind one); `None` when the listener has no IP addresses.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.session.peer
    }

    /// Names who the layer above authenticated on this session, for the log line of a close
    /// (the first name given stays).
    pub fn set_user(&self, user: impl fmt::Display) {
        let _ = self.session.user.set(user.to_string().into_boxed_str());
    }

    /// Who the layer above said is on this session, if anyone.
    pub fn user(&self) -> Option<&str> {
        self.session.user.get().map(|user| &**user)
    }
}

#[cfg(test)]
impl EngineSocket {
    /// A session of no engine, for unit tests of the layers above.
    pub(crate) fn detached() -> Self {
        let config = Arc::new(EngineConfig::default());
        let session = Session::new("detached".into(), TransportKind::Websocket, config);
        EngineSocket {
            session: Arc::new(session),
        }
    }

    /// Takes the frames queued for the client so far.
    pub(crate) fn take_queued(&self) -> Vec<Frame> {
        self.session.state().queue.drain(..).collect()
    }
}

impl fmt::Debug for EngineSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineSocket")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// Where an upgrade from polling to WebSocket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upgrade {
    /// No WebSocket is trying to take over.
    Idle,
    /// A WebSocket connected with this sid and has not probed yet: polling goes on.
    Connecting,
    /// The probe was answered at this instant: polls are ended with `noop` and the queue is
    /// kept for the WebSocket.
    Probed(Instant),
}

/// The mutable state of a session, behind one std mutex that is never held across an await
/// (every critical section is a few field updates; no I/O, no handler call).
pub(super) struct State {
    pub(super) transport: TransportKind,
    pub(super) queue: VecDeque<Frame>,
    /// The reason of the close, once closing: set once, the first reason wins.
    pub(super) closed: Option<DisconnectReason>,
    /// Whether `on_close` was (or is being) called.
    torn_down: bool,
    pub(super) upgrade: Upgrade,
    heartbeat: Heartbeat,
    /// A polling GET is waiting (at most one).
    pub(super) polling: bool,
    /// A polling POST is being read and delivered (at most one).
    pub(super) posting: bool,
    /// A poll took the last payload of a closed session (its queue and the `close` packet),
    /// or the wait for that poll is over.
    pub(super) final_sent: bool,
}

impl State {
    /// Whether a closed polling session still keeps its last payload for the client's next
    /// poll: after a server close, as the reference does, so that what was queued before the
    /// close (a Socket.IO DISCONNECT, say) reaches a client that was between two polls.
    pub(super) fn awaits_final_poll(&self) -> bool {
        self.closed.is_some_and(DisconnectReason::flushes_queue)
            && !self.final_sent
            && self.transport == TransportKind::Polling
    }
}

/// The shared part of a session.
pub(super) struct Session {
    id: Box<str>,
    pub(super) config: Arc<EngineConfig>,
    state: Mutex<State>,
    /// Wakes the one consumer of the queue (the pending poll or the WebSocket writer); a
    /// notification given while nobody waits is kept for the next one.
    pub(super) ready: Notify,
    /// Signals every change of the close, the transport or the upgrade to the tasks that
    /// drive the session (each keeps a receiver and re-reads the state on a change).
    changed: watch::Sender<()>,
    /// The client's address, set by the engine when it opens the session.
    pub(super) peer: Option<SocketAddr>,
    /// Who the layer above authenticated, for the logs.
    user: OnceLock<Box<str>>,
}

/// The heartbeat's ping, the same bytes for every session.
const PING: &str = "2";

impl Session {
    /// A new session on `transport`, its heartbeat started now.
    pub(super) fn new(id: String, transport: TransportKind, config: Arc<EngineConfig>) -> Self {
        let heartbeat = Heartbeat::new(Instant::now(), config.ping_interval, config.ping_timeout);
        Self {
            id: id.into_boxed_str(),
            config,
            state: Mutex::new(State {
                transport,
                queue: VecDeque::new(),
                closed: None,
                torn_down: false,
                upgrade: Upgrade::Idle,
                heartbeat,
                polling: false,
                posting: false,
                final_sent: false,
            }),
            ready: Notify::new(),
            changed: watch::Sender::new(()),
            peer: None,
            user: OnceLock::new(),
        }
    }

    /// The state, locked. A panic while the lock was held cannot leave it half-updated in a
    /// way that matters more than losing the session, so a poisoned lock is used as is.
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver of state changes, for a task that drives the session.
    pub(super) fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }

    /// Tells the driving tasks that the state changed.
    pub(super) fn notify_changed(&self) {
        self.changed.send_replace(());
    }

    /// Queues one frame, or closes the session as too slow when the queue is full.
    pub(super) fn push(&self, frame: Frame) -> Result<(), SendError> {
        let mut state = self.state();
        if state.closed.is_some() {
            return Err(SendError::Closed);
        }
        if state.queue.len() >= self.config.outbound_queue {
            drop(state);
            self.close(DisconnectReason::SlowClient);
            return Err(SendError::QueueFull);
        }
        state.queue.push_back(frame);
        let depth = state.queue.len();
        drop(state);
        crate::observability::outbound_queued(depth);
        self.ready.notify_one();
        Ok(())
    }

    /// Records the close (the first reason wins) and wakes every task of the session. Never
    /// calls the handler: the task that drives the session does, once it stops reading.
    pub(super) fn close(&self, reason: DisconnectReason) {
        let mut state = self.state();
        if state.closed.is_some() {
            return;
        }
        state.closed = Some(reason);
        if !reason.flushes_queue() {
            state.queue = VecDeque::new();
        }
        drop(state);
        tracing::debug!(sid = %self.id, %reason, "engine.io session closing");
        self.notify_changed();
        self.ready.notify_one();
    }

    /// Advances the heartbeat: queues a due ping, or closes the session when the pong is late
    /// (or when the ping does not fit in the queue). Returns when to call again, or `None`
    /// once the session is closed.
    pub(super) fn beat(&self, now: Instant) -> Option<Instant> {
        let mut state = self.state();
        if state.closed.is_some() {
            return None;
        }
        match state.heartbeat.poll(now) {
            Beat::Wait(at) => Some(at),
            Beat::Ping => {
                let next = state.heartbeat.pong_deadline().unwrap_or(now);
                drop(state);
                let ping = Frame::Text(ByteString::from_static(PING));
                self.push(ping).ok().map(|()| next)
            }
            Beat::TimedOut => {
                drop(state);
                self.close(DisconnectReason::PingTimeout);
                None
            }
        }
    }

    /// The client answered a ping.
    pub(super) fn pong(&self, now: Instant) {
        self.state().heartbeat.pong(now);
    }

    /// Claims the right to call `on_close`, for the task that drives the session over
    /// `transport`: only once the session is closed, and never while a POST still delivers
    /// messages (its end claims it then), so `on_close` follows the last `on_message`.
    pub(super) fn take_teardown(&self, transport: TransportKind) -> Option<DisconnectReason> {
        let mut state = self.state();
        if state.torn_down || state.posting || state.transport != transport {
            return None;
        }
        let reason = state.closed?;
        state.torn_down = true;
        Some(reason)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn socket(queue: usize) -> EngineSocket {
        let config = EngineConfig {
            outbound_queue: queue,
            ..EngineConfig::default()
        };
        let session = Session::new("sid".into(), TransportKind::Polling, Arc::new(config));
        EngineSocket {
            session: Arc::new(session),
        }
    }

    fn text(s: &'static str) -> Frame {
        Frame::Text(ByteString::from_static(s))
    }

    #[test]
    fn a_full_queue_closes_the_session_as_too_slow() {
        let socket = socket(2);
        socket.send(text("4a")).unwrap();
        socket.send(text("4b")).unwrap();
        assert_eq!(socket.send(text("4c")), Err(SendError::QueueFull));
        assert!(socket.is_closed());
        assert_eq!(socket.send(text("4d")), Err(SendError::Closed));
        let state = socket.session.state();
        assert_eq!(state.closed, Some(DisconnectReason::SlowClient));
        assert!(state.queue.is_empty(), "a slow client's backlog is dropped");
    }

    #[test]
    fn the_first_close_reason_wins_and_a_server_close_keeps_the_queue() {
        let socket = socket(8);
        socket.send(text("4a")).unwrap();
        socket.close(DisconnectReason::ServerClose);
        socket.close(DisconnectReason::PingTimeout);
        let state = socket.session.state();
        assert_eq!(state.closed, Some(DisconnectReason::ServerClose));
        assert_eq!(state.queue.len(), 1);
    }

    #[test]
    fn teardown_is_claimed_once_and_waits_for_the_post() {
        let socket = socket(8);
        let session = &socket.session;
        assert_eq!(session.take_teardown(TransportKind::Polling), None);
        session.state().posting = true;
        socket.close(DisconnectReason::ClientClose);
        assert_eq!(session.take_teardown(TransportKind::Polling), None);
        session.state().posting = false;
        assert_eq!(session.take_teardown(TransportKind::Websocket), None);
        assert_eq!(
            session.take_teardown(TransportKind::Polling),
            Some(DisconnectReason::ClientClose)
        );
        assert_eq!(session.take_teardown(TransportKind::Polling), None);
    }

    #[test]
    fn the_heartbeat_queues_a_ping_then_times_out() {
        let socket = socket(8);
        let session = &socket.session;
        let later = Instant::now() + Duration::from_secs(25);
        let deadline = session.beat(later).unwrap();
        assert!(deadline >= later + Duration::from_secs(10));
        assert_eq!(session.state().queue.front(), Some(&text("2")));
        assert_eq!(session.beat(deadline), None);
        assert_eq!(session.state().closed, Some(DisconnectReason::PingTimeout));
    }
}
