//! The one trait that crosses from Engine.IO to the layer above it (Socket.IO), and the values
//! that travel through it: the handshake request, a client message, and why a session ended.

use std::{fmt, net::SocketAddr};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use bytestring::ByteString;

use super::socket::EngineSocket;

/// What the layer above Engine.IO implements to learn about sessions. The engine calls it from
/// the tasks that serve a session's requests and connections (actix worker threads), so every
/// method must return quickly and must not block: queue work, do not wait on it.
pub trait EngineHandler: Send + Sync + 'static {
    /// A session completed its handshake. `request` carries the handshake's headers and query.
    ///
    /// Called once per session, before the client can have sent anything on it: over polling,
    /// before the handshake answer (the `open` packet) is returned; over WebSocket, after the
    /// `open` packet was queued as the first frame. Frames sent from here follow the `open`
    /// packet.
    fn on_open(&self, socket: EngineSocket, request: &HandshakeRequest);
    /// A message packet from the client (text or binary), in arrival order.
    ///
    /// Calls for one session never overlap: they come from the task that reads the client
    /// (the POST request over polling, the reader of the WebSocket).
    fn on_message(&self, socket: &EngineSocket, message: EngineMessage);
    /// The session ended; called exactly once per opened session, after its last `on_message`.
    /// The session is already out of the engine's map and refuses frames.
    fn on_close(&self, socket: &EngineSocket, reason: DisconnectReason);
}

/// The data of one `message` packet from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineMessage {
    /// A text message (`4...`): one Socket.IO packet in text form. Shares the read buffer.
    Text(ByteString),
    /// A binary message (a binary WebSocket frame, or `b<base64>` over polling): a Socket.IO
    /// attachment.
    Binary(Bytes),
}

/// The HTTP request that opened a session, kept for the layer above: Socket.IO reads its
/// authentication from here (headers such as `Authorization` or `Cookie`, or the query) when
/// the client does not put it in the CONNECT packet.
#[derive(Debug, Clone)]
pub struct HandshakeRequest {
    /// The handshake request's headers, as received.
    pub headers: HandshakeHeaders,
    /// The handshake's query parameters, percent-decoded, in order (`EIO`, `transport` and any
    /// the client added).
    pub query: Vec<(String, String)>,
    /// The peer's address as the socket saw it (a proxy's, behind one).
    pub peer: Option<SocketAddr>,
}

impl HandshakeRequest {
    /// The first value of a query parameter, if present.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A handshake's headers, kept for the life of its session: a plain list, a fraction of the
/// size of a header map (whose every entry reserves room for four values).
#[derive(Debug, Clone, Default)]
pub struct HandshakeHeaders(Box<[(HeaderName, HeaderValue)]>);

impl HandshakeHeaders {
    /// The first value of header `name` (any case), if present.
    pub fn get(&self, name: &str) -> Option<&HeaderValue> {
        self.iter()
            .find(|(key, _)| key.as_str().eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// Every header, in the order received (a repeated header once per value).
    pub fn iter(&self) -> impl Iterator<Item = &(HeaderName, HeaderValue)> {
        self.0.iter()
    }
}

impl From<&HeaderMap> for HandshakeHeaders {
    fn from(headers: &HeaderMap) -> Self {
        HandshakeHeaders(
            headers
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        )
    }
}

/// Why a session ended. Every exit of a session names one; the first reason recorded wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client's connection ended: the WebSocket closed, or a pending poll was abandoned.
    TransportClose,
    /// Reading from or writing to the client failed.
    TransportError,
    /// No pong came within `ping_timeout` after a ping.
    PingTimeout,
    /// The client sent a message or POST body over `max_payload`.
    PayloadTooLarge,
    /// The session's outbound queue was full: the client does not read fast enough.
    SlowClient,
    /// The server is shutting down ([`Engine::close_all`](super::Engine::close_all)).
    ServerShutdown,
    /// The application closed the session ([`EngineSocket::close`]).
    ServerClose,
    /// The client sent the Engine.IO `close` packet.
    ClientClose,
    /// The client broke the protocol: a malformed packet, a ping from the client, overlapping
    /// polls or POSTs, a binary POST body.
    ProtocolError,
    /// The client gave up polling for a WebSocket (its probe was answered) that then failed or
    /// timed out before completing the upgrade, so the session has no transport left.
    UpgradeFailed,
    /// The client sent packets faster than the application handles them, past the layer
    /// above's inbound queue.
    Flooding,
    /// The client joined no Socket.IO namespace within the connect timeout after the
    /// handshake (a tokenless session holds nothing for long).
    ConnectTimeout,
    /// The binary attachments a packet announced did not all arrive in time.
    AttachmentTimeout,
    /// The application could not serve the client for a reason of its own (its store is
    /// unavailable): the client is told to reconnect later, not that it was refused.
    ServiceUnavailable,
}

impl DisconnectReason {
    /// A stable snake_case name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransportClose => "transport_close",
            Self::TransportError => "transport_error",
            Self::PingTimeout => "ping_timeout",
            Self::PayloadTooLarge => "payload_too_large",
            Self::SlowClient => "slow_client",
            Self::ServerShutdown => "server_shutdown",
            Self::ServerClose => "server_close",
            Self::ClientClose => "client_close",
            Self::ProtocolError => "protocol_error",
            Self::UpgradeFailed => "upgrade_failed",
            Self::Flooding => "flooding",
            Self::ConnectTimeout => "connect_timeout",
            Self::AttachmentTimeout => "attachment_timeout",
            Self::ServiceUnavailable => "service_unavailable",
        }
    }

    /// Whether the server ended the session on purpose because of what the client did or
    /// failed to do (or could not serve it): worth a line in the operator's log. Ends the
    /// client chose, lost connections and shutdown are not.
    pub fn is_deliberate(self) -> bool {
        matches!(
            self,
            Self::PayloadTooLarge
                | Self::SlowClient
                | Self::ProtocolError
                | Self::Flooding
                | Self::ConnectTimeout
                | Self::AttachmentTimeout
                | Self::ServiceUnavailable
        )
    }

    /// Whether frames queued before the close still go out first: only when the server chose
    /// to close a healthy session (so that, say, a Socket.IO DISCONNECT precedes the close).
    pub(super) fn flushes_queue(self) -> bool {
        matches!(self, Self::ServerClose | Self::ServerShutdown)
    }

    /// Whether the client is sent the Engine.IO `close` packet, so that it reconnects.
    pub(super) fn sends_close_packet(self) -> bool {
        !matches!(
            self,
            Self::ClientClose | Self::TransportClose | Self::TransportError
        )
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
