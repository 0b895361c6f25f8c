//! The Socket.IO server over Engine.IO sessions: namespaces with authenticated CONNECT,
//! events handed to the application one at a time per client (so a burst keeps its order),
//! acknowledgements, and the connect timeout.
//!
//! Like the reference server (`socket.io`'s `lib/client.ts`), a client that breaks the
//! protocol's state loses its whole connection: a packet for a namespace it has not joined
//! (or has left), a second CONNECT to a namespace it is in, a CONNECT_ERROR (which only the
//! server sends), as well as a packet that does not decode. An unknown namespace or a refused
//! CONNECT is answered with CONNECT_ERROR and leaves the connection open. The connect timeout
//! closes a client that has joined no namespace yet; once it joined one, it may leave them all
//! and stay connected.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::mailbox::{Mail, Mailbox};
use super::{
    Ack, AckId, Data, Decoder, Event, Namespace, Packet, PacketData, Progress, SioSocket,
    reconstruct,
};
use crate::engineio::{
    DisconnectReason, EngineHandler, EngineMessage, EngineSocket, Frame, HandshakeRequest,
};

/// Limits of the Socket.IO layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketIoConfig {
    /// How long a client may take to connect to a namespace after the handshake.
    pub connect_timeout: Duration,
    /// Most attachments one binary packet may announce.
    pub max_attachments: usize,
    /// Packets a client may have waiting for the application; beyond that it is flooding and
    /// is disconnected.
    pub inbound_queue: usize,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        SocketIoConfig {
            connect_timeout: Duration::from_secs(45),
            max_attachments: super::DEFAULT_MAX_ATTACHMENTS,
            inbound_queue: 256,
        }
    }
}

/// What the application decides and does; the protocol is the server's job.
pub trait SocketIoHandler: Send + Sync + 'static {
    /// What the application keeps for each connected socket (the authenticated user, say).
    type Session: Send + Sync + 'static;

    /// Whether clients may connect to `namespace` at all ("Invalid namespace" otherwise).
    fn accepts(&self, namespace: &Namespace) -> bool;

    /// Admits or refuses a CONNECT; a refusal's message goes to the client's `connect_error`.
    fn connect(
        &self,
        socket: SioSocket,
        auth: Option<Map<String, Value>>,
        request: Arc<HandshakeRequest>,
    ) -> impl Future<Output = Result<Self::Session, String>> + Send;

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
}

impl<H: SocketIoHandler> EngineHandler for SocketIoServer<H> {
    fn on_open(&self, socket: EngineSocket, request: &HandshakeRequest) {
        let mailbox = Arc::new(Mailbox::new(self.config.inbound_queue));
        let connection = Arc::new(Connection {
            decoder: Mutex::new(Decoder::new(self.config.max_attachments)),
            mailbox: Arc::clone(&mailbox),
        });
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(socket.id().to_owned(), connection);
        let worker = Worker {
            handler: Arc::clone(&self.handler),
            engine: socket,
            request: Arc::new(request.clone()),
            sessions: HashMap::new(),
            mailbox,
            joined: false,
        };
        tokio::spawn(worker.run(self.config.connect_timeout));
    }

    fn on_message(&self, socket: &EngineSocket, message: EngineMessage) {
        let Some(connection) = self.connection(socket.id()) else {
            return;
        };
        let progress = {
            let mut decoder = connection
                .decoder
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match message {
                EngineMessage::Text(text) => decoder.decode_text(&text),
                EngineMessage::Binary(bytes) => decoder.decode_binary(bytes),
            }
        };
        match progress {
            Ok(Progress::Packet(packet)) => {
                if !connection.mailbox.post_packet(packet) {
                    tracing::debug!(sid = socket.id(), "client floods its inbound queue");
                    socket.close(DisconnectReason::ProtocolError);
                }
            }
            Ok(Progress::AwaitingAttachments(_)) => {}
            Err(error) => {
                tracing::debug!(sid = socket.id(), %error, "undecodable Socket.IO packet");
                socket.close(DisconnectReason::ProtocolError);
            }
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

/// Owns one connection's namespaces and handles its packets in order.
struct Worker<H: SocketIoHandler> {
    handler: Arc<H>,
    engine: EngineSocket,
    request: Arc<HandshakeRequest>,
    sessions: HashMap<Namespace, (SioSocket, H::Session)>,
    /// Where this worker's work arrives; handed to each socket, for [`SioSocket::disconnect`]
    /// to tell this worker.
    mailbox: Arc<Mailbox>,
    /// Whether the client has joined a namespace yet: the connect timeout no longer applies.
    joined: bool,
}

/// A packet that the client may not send in its connection's state; the reference server
/// closes the connection on it ("invalid state").
#[derive(Debug)]
struct InvalidState;

impl<H: SocketIoHandler> Worker<H> {
    async fn run(mut self, connect_timeout: Duration) {
        let deadline = tokio::time::sleep(connect_timeout);
        tokio::pin!(deadline);
        let mailbox = Arc::clone(&self.mailbox);
        let reason = loop {
            let mail = tokio::select! {
                biased;
                mail = mailbox.next() => mail,
                () = &mut deadline, if !self.joined => {
                    tracing::debug!(sid = self.engine.id(), "no namespace joined in time");
                    self.engine.close(DisconnectReason::ProtocolError);
                    break DisconnectReason::ProtocolError;
                }
            };
            match mail {
                Mail::Closed(reason) => break reason,
                // Before the client's packets: a namespace the server left takes none.
                Mail::Left(namespace, id) => self.left(&namespace, &id),
                // Boxed: the application's futures are large, and an idle connection should
                // not carry their size in its task.
                Mail::Packet(packet) => {
                    if Box::pin(self.handle(*packet)).await.is_err() {
                        tracing::debug!(sid = self.engine.id(), "packet in an invalid state");
                        self.engine.close(DisconnectReason::ProtocolError);
                        break DisconnectReason::ProtocolError;
                    }
                }
            }
        };
        for (_, (socket, session)) in self.sessions.drain() {
            socket.mark_left();
            self.handler.on_disconnect(&socket, session, reason);
        }
    }

    async fn handle(&mut self, packet: Packet) -> Result<(), InvalidState> {
        let namespace = packet.namespace;
        match packet.data {
            PacketData::Connect(auth) => self.connect(namespace, auth).await,
            // A plain EVENT holds no attachment: objects shaped like placeholders are data.
            PacketData::Event(Event { name, args, ack }) => {
                let args = args.into_iter().map(Data::Json).collect();
                self.event(&namespace, name, args, ack).await
            }
            PacketData::BinaryEvent(Event { name, args, ack }, attachments) => {
                let args = reconstruct(args, &attachments).map_err(|error| {
                    tracing::debug!(%error, "event with bad attachments");
                    InvalidState
                })?;
                self.event(&namespace, name, args, ack).await
            }
            PacketData::Disconnect => {
                let (socket, session) = self.sessions.remove(&namespace).ok_or(InvalidState)?;
                socket.mark_left();
                self.handler
                    .on_disconnect(&socket, session, DisconnectReason::ClientClose);
                Ok(())
            }
            // Acks from the client answer the server's `emit_with_ack`.
            PacketData::Ack(Ack { id, args }) => {
                let (socket, _) = self.sessions.get(&namespace).ok_or(InvalidState)?;
                socket.resolve_ack(id, args.into_iter().map(Data::Json).collect());
                Ok(())
            }
            PacketData::BinaryAck(Ack { id, args }, attachments) => {
                let (socket, _) = self.sessions.get(&namespace).ok_or(InvalidState)?;
                let args = reconstruct(args, &attachments).map_err(|_| InvalidState)?;
                socket.resolve_ack(id, args);
                Ok(())
            }
            // CONNECT_ERROR only travels from server to client.
            PacketData::ConnectError(_) => Err(InvalidState),
        }
    }

    async fn connect(
        &mut self,
        namespace: Namespace,
        auth: Option<Map<String, Value>>,
    ) -> Result<(), InvalidState> {
        if self.sessions.contains_key(&namespace) {
            return Err(InvalidState);
        }
        if !self.handler.accepts(&namespace) {
            self.refuse(namespace, "Invalid namespace");
            return Ok(());
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let socket = SioSocket::new(id, namespace.clone(), self.engine.clone(), &self.mailbox);
        let admitted = self
            .handler
            .connect(socket.clone(), auth, Arc::clone(&self.request))
            .await;
        if self.engine.is_closed() {
            return Ok(()); // the client left while the application decided: nothing to join
        }
        match admitted {
            Ok(session) => {
                let _ = socket.send_packet(&Packet::connect(namespace.clone(), socket.id()));
                self.joined = true;
                self.handler.on_connected(&socket, &session);
                self.sessions.insert(namespace, (socket, session));
            }
            Err(message) => self.refuse(namespace, &message),
        }
        Ok(())
    }

    /// Answers a CONNECT with CONNECT_ERROR; the connection stays open.
    fn refuse(&self, namespace: Namespace, message: &str) {
        let error = PacketData::ConnectError(json!({ "message": message }));
        let _ = self
            .engine
            .send(Frame::message(Packet::new(namespace, error)));
    }

    async fn event(
        &self,
        namespace: &Namespace,
        name: String,
        args: Vec<Data>,
        ack: Option<AckId>,
    ) -> Result<(), InvalidState> {
        let (socket, session) = self.sessions.get(namespace).ok_or(InvalidState)?;
        let reply = self.handler.on_event(socket, session, name, args).await;
        if let Some(id) = ack {
            let ack = PacketData::ack_with_binary(id, reply);
            let _ = socket.send_packet(&Packet::new(namespace.clone(), ack));
        }
        Ok(())
    }

    /// The server left `namespace` through [`SioSocket::disconnect`] (which sent the
    /// DISCONNECT): the socket `id` is gone, unless it had already left.
    fn left(&mut self, namespace: &Namespace, id: &str) {
        if self
            .sessions
            .get(namespace)
            .is_some_and(|(socket, _)| socket.id() == id)
            && let Some((socket, session)) = self.sessions.remove(namespace)
        {
            self.handler
                .on_disconnect(&socket, session, DisconnectReason::ServerClose);
        }
    }
}
