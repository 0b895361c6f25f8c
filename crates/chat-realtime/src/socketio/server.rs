//! The Socket.IO server over Engine.IO sessions: namespaces with authenticated CONNECT,
//! events handed to the application one at a time per client (so a burst keeps its order),
//! acknowledgements, and the limits on what a client may hold before it has joined anything
//! (the connect timeout) or while its binary attachments arrive.
//!
//! Like the reference server (`socket.io`'s `lib/client.ts`), a client that breaks the
//! protocol's state loses its whole connection: a packet for a namespace it has not joined
//! (or has left), a second CONNECT to a namespace it is in, a CONNECT_ERROR (which only the
//! server sends), as well as a packet that does not decode. An event that decodes but whose
//! content cannot be taken (a lone surrogate) is answered instead, and the connection stays.
//! An unknown namespace or a refused CONNECT is answered with CONNECT_ERROR and leaves the
//! connection open; a CONNECT the application cannot decide (its store is down) closes the
//! connection, so that the client reconnects by itself. The connect timeout closes a client
//! that has joined no namespace yet; once it joined one, it may leave them all and stay
//! connected.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use serde_json::{Map, Value};

use super::mailbox::Mailbox;
use super::worker::Worker;
use super::{Data, Decoder, Namespace, ParseError, Progress, RefusedEvent, SioSocket};
use crate::engineio::{
    DisconnectReason, EngineHandler, EngineMessage, EngineSocket, HandshakeRequest,
};

/// Limits of the Socket.IO layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketIoConfig {
    /// How long a client may take to connect to a namespace after the handshake; a session
    /// without a token holds nothing longer than this.
    pub connect_timeout: Duration,
    /// Most attachments one binary packet may announce.
    pub max_attachments: usize,
    /// Most bytes the attachments of one binary packet may add up to (over it, the connection
    /// is closed as [`DisconnectReason::PayloadTooLarge`]).
    pub max_attachment_bytes: usize,
    /// How long the attachments of one binary packet may take to arrive, all of them, from its
    /// text part (then [`DisconnectReason::AttachmentTimeout`]).
    pub attachment_timeout: Duration,
    /// Packets a client may have waiting for the application; beyond that it is flooding and
    /// is disconnected.
    pub inbound_queue: usize,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        SocketIoConfig {
            connect_timeout: Duration::from_secs(10),
            max_attachments: super::DEFAULT_MAX_ATTACHMENTS,
            max_attachment_bytes: 1_000_000,
            attachment_timeout: Duration::from_secs(20),
            inbound_queue: 256,
        }
    }
}

/// Why a CONNECT was not admitted, which decides what the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectRefusal {
    /// The client may not connect (bad credentials, a cap): it gets CONNECT_ERROR with this
    /// message, and its connection stays open. The standard client does not retry by itself.
    Denied(String),
    /// The server cannot decide now (its store is unavailable): the connection is closed, so
    /// that the standard client reconnects with backoff, as it does after a lost connection
    /// and never after CONNECT_ERROR.
    Unavailable,
}

impl From<String> for ConnectRefusal {
    fn from(message: String) -> Self {
        Self::Denied(message)
    }
}

/// What the application decides and does; the protocol is the server's job.
pub trait SocketIoHandler: Send + Sync + 'static {
    /// What the application keeps for each connected socket (the authenticated user, say).
    type Session: Send + Sync + 'static;

    /// Whether clients may connect to `namespace` at all ("Invalid namespace" otherwise).
    fn accepts(&self, namespace: &Namespace) -> bool;

    /// Admits or refuses a CONNECT.
    fn connect(
        &self,
        socket: SioSocket,
        auth: Option<Map<String, Value>>,
        request: Arc<HandshakeRequest>,
    ) -> impl Future<Output = Result<Self::Session, ConnectRefusal>> + Send;

    /// The private session id of connection state recovery to hand the client in the CONNECT
    /// answer (`{ sid, pid }`), if the application keeps the session for it to recover.
    fn recovery_pid<'s>(&self, _session: &'s Self::Session) -> Option<&'s str> {
        None
    }

    /// The CONNECT was answered: events emitted from here reach the client after its
    /// `connect`.
    fn on_connected(&self, _socket: &SioSocket, _session: &Self::Session) {}

    /// Handles one event; the returned arguments answer it when the client asked for an ack.
    fn on_event(
        &self,
        socket: &SioSocket,
        session: &Self::Session,
        name: String,
        args: Vec<Data>,
    ) -> impl Future<Output = Vec<Data>> + Send;

    /// An event refused for its content ([`RefusedEvent`]); the returned arguments answer
    /// it when the client asked for an ack. By default, an empty answer.
    fn on_refused_event(
        &self,
        _socket: &SioSocket,
        _session: &Self::Session,
        _event: &RefusedEvent,
    ) -> Vec<Data> {
        Vec::new()
    }

    /// The socket left its namespace (the client's DISCONNECT, `reason`
    /// [`DisconnectReason::ClientClose`], or [`SioSocket::disconnect`],
    /// [`DisconnectReason::ServerClose`]) or the connection ended.
    fn on_disconnect(&self, socket: &SioSocket, session: Self::Session, reason: DisconnectReason);
}

/// The reader's side of one Engine.IO connection.
struct Connection {
    decoder: Mutex<Decoder>,
    mailbox: Arc<Mailbox>,
}

impl Drop for Connection {
    /// A connection dropped without `on_close` (its server went away) still ends its worker.
    fn drop(&mut self) {
        self.mailbox.close(DisconnectReason::TransportClose);
    }
}

/// The Socket.IO server: plug it into an [`crate::engineio::Engine`] as its handler.
pub struct SocketIoServer<H: SocketIoHandler> {
    handler: Arc<H>,
    config: SocketIoConfig,
    // A std Mutex: held to look up or change the map only, never across an await.
    connections: Mutex<HashMap<String, Arc<Connection>>>,
}

impl<H: SocketIoHandler> SocketIoServer<H> {
    /// A server that hands sockets to `handler`.
    pub fn new(handler: Arc<H>, config: SocketIoConfig) -> Self {
        SocketIoServer {
            handler,
            config,
            connections: Mutex::new(HashMap::new()),
        }
    }

    fn connection(&self, sid: &str) -> Option<Arc<Connection>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sid)
            .cloned()
    }

    /// Closes the connection unless the binary packet `serial` has all its attachments within
    /// the attachment timeout.
    fn expect_attachments(&self, socket: &EngineSocket, connection: &Arc<Connection>, serial: u64) {
        let (socket, connection) = (socket.clone(), Arc::downgrade(connection));
        let timeout = self.config.attachment_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if still_awaiting(&connection, serial) {
                socket.close(DisconnectReason::AttachmentTimeout);
            }
        });
    }
}

/// Whether the connection still waits for the attachments of binary packet `serial`.
fn still_awaiting(connection: &Weak<Connection>, serial: u64) -> bool {
    connection.upgrade().is_some_and(|connection| {
        let decoder = connection
            .decoder
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        decoder.awaiting_serial() == Some(serial)
    })
}

impl<H: SocketIoHandler> EngineHandler for SocketIoServer<H> {
    fn on_open(&self, socket: EngineSocket, request: &HandshakeRequest) {
        let mailbox = Arc::new(Mailbox::new(self.config.inbound_queue));
        let decoder = Decoder::with_limits(
            self.config.max_attachments,
            self.config.max_attachment_bytes,
        );
        let connection = Arc::new(Connection {
            decoder: Mutex::new(decoder),
            mailbox: Arc::clone(&mailbox),
        });
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(socket.id().to_owned(), connection);
        let worker = Worker::new(
            Arc::clone(&self.handler),
            socket,
            Arc::new(request.clone()),
            mailbox,
        );
        tokio::spawn(worker.run(self.config.connect_timeout));
    }

    fn on_message(&self, socket: &EngineSocket, message: EngineMessage) {
        let Some(connection) = self.connection(socket.id()) else {
            return;
        };
        let (progress, started) = {
            let mut decoder = connection
                .decoder
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let before = decoder.awaiting_serial();
            let progress = match message {
                EngineMessage::Text(text) => decoder.decode_text(&text),
                EngineMessage::Binary(bytes) => decoder.decode_binary(bytes),
            };
            let started = decoder.awaiting_serial().filter(|now| before != Some(*now));
            (progress, started)
        };
        if let Some(serial) = started {
            self.expect_attachments(socket, &connection, serial);
        }
        let posted = match progress {
            Ok(Progress::Packet(packet)) => connection.mailbox.post_packet(packet),
            Ok(Progress::Refused(event)) => {
                tracing::debug!(
                    sid = socket.id(),
                    event = event.name,
                    reason = event.reason,
                    "event refused for its content"
                );
                connection.mailbox.post_refused(event)
            }
            Ok(Progress::AwaitingAttachments(_)) => true,
            Err(error) => {
                tracing::debug!(sid = socket.id(), %error, "undecodable Socket.IO packet");
                socket.close(match error {
                    ParseError::AttachmentsTooLarge { .. } => DisconnectReason::PayloadTooLarge,
                    _ => DisconnectReason::ProtocolError,
                });
                true
            }
        };
        if !posted {
            tracing::debug!(sid = socket.id(), "client floods its inbound queue");
            socket.close(DisconnectReason::Flooding);
        }
    }

    fn on_close(&self, socket: &EngineSocket, reason: DisconnectReason) {
        let removed = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(socket.id());
        if let Some(connection) = removed {
            connection.mailbox.close(reason);
        }
    }
}
