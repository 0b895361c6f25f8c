//! The worker of one connection: it owns the connection's namespaces and handles its packets
//! one at a time, in order, so that a burst keeps its order and the application never sees
//! two events of one client at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::mailbox::{Mail, Mailbox};
use super::server::{ConnectRefusal, SocketIoHandler};
use super::{
    Ack, AckId, Data, Event, Namespace, Packet, PacketData, RefusedEvent, SioSocket, reconstruct,
};
use crate::engineio::{DisconnectReason, EngineSocket, Frame, HandshakeRequest};

/// Owns one connection's namespaces and handles its packets in order.
pub(super) struct Worker<H: SocketIoHandler> {
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
    /// The worker of a connection just opened by `request`.
    pub(super) fn new(
        handler: Arc<H>,
        engine: EngineSocket,
        request: Arc<HandshakeRequest>,
        mailbox: Arc<Mailbox>,
    ) -> Self {
        Worker {
            handler,
            engine,
            request,
            sessions: HashMap::new(),
            mailbox,
            joined: false,
        }
    }

    /// Handles the connection's work until it ends; closes it if it joins no namespace within
    /// `connect_timeout`.
    pub(super) async fn run(mut self, connect_timeout: Duration) {
        let deadline = tokio::time::sleep(connect_timeout);
        tokio::pin!(deadline);
        let mailbox = Arc::clone(&self.mailbox);
        let reason = loop {
            let mail = tokio::select! {
                biased;
                mail = mailbox.next() => mail,
                () = &mut deadline, if !self.joined => {
                    tracing::debug!(sid = self.engine.id(), "no namespace joined in time");
                    self.engine.close(DisconnectReason::ConnectTimeout);
                    break DisconnectReason::ConnectTimeout;
                }
            };
            match mail {
                Mail::Closed(reason) => break reason,
                // Before the client's packets: a namespace the server left takes none.
                Mail::Left(namespace, id) => self.left(&namespace, &id),
                // Boxed: the application's futures are large, and an idle connection should
                // not carry their size in its task.
                Mail::Refused(event) => {
                    if self.refused(&event).is_err() {
                        tracing::debug!(sid = self.engine.id(), "packet in an invalid state");
                        self.engine.close(DisconnectReason::ProtocolError);
                        break DisconnectReason::ProtocolError;
                    }
                }
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
                let pid = self.handler.recovery_pid(&session);
                let answer = Packet::connect_with_pid(namespace.clone(), socket.id(), pid);
                let _ = socket.send_packet(&answer);
                self.joined = true;
                self.handler.on_connected(&socket, &session);
                self.sessions.insert(namespace, (socket, session));
            }
            Err(ConnectRefusal::Denied(message)) => self.refuse(namespace, &message),
            Err(ConnectRefusal::Unavailable) => {
                // Logged with its peer once the engine ends the session.
                self.engine.close(DisconnectReason::ServiceUnavailable);
            }
        }
        Ok(())
    }

    /// Answers an event refused for its content, as the application says.
    fn refused(&self, event: &RefusedEvent) -> Result<(), InvalidState> {
        let (socket, session) = self.sessions.get(&event.namespace).ok_or(InvalidState)?;
        let reply = self.handler.on_refused_event(socket, session, event);
        if let Some(id) = event.ack {
            let ack = PacketData::ack_with_binary(id, reply);
            let _ = socket.send_packet(&Packet::new(event.namespace.clone(), ack));
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
