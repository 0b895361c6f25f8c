//! The realtime half of the composition root: the hub, the Socket.IO server over the
//! Engine.IO engine, and token verification shared with REST.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_web::web;
use chat_api::{ApiError, Authenticator};
use chat_domain::{ChatError, ChatService, Store};
use chat_realtime::chat::{AuthFailure, Authenticate, Authenticated, ChatRealtime, Hub};
use chat_realtime::engineio::{Engine, EngineConfig};
use chat_realtime::socketio::{SocketIoConfig, SocketIoServer};

use crate::config::SocketSettings;

/// How long the hub waits for a missing `seq` before delivering past the gap. Concurrent senders
/// publish their commits from their own tasks, and on a loaded machine one may be scheduled
/// hundreds of milliseconds after the next: 250 ms let the next go first about once in ten runs
/// of four sockets sending 100 each. A gap that lasts is a send cut off between its commit and
/// its announcement, which is rare; filling it from the store instead of waiting is the
/// delivery work still to come.
const GAP_GRACE: Duration = Duration::from_secs(2);

/// Socket tokens are verified, and their users provisioned, exactly as REST does it; a socket
/// stays as long as REST accepts its token.
pub(crate) struct SocketAuth(pub(crate) web::Data<Authenticator>);

impl Authenticate for SocketAuth {
    async fn authenticate(&self, token: &str) -> Result<Authenticated, AuthFailure> {
        match self.0.authenticate_until(token).await {
            Ok((user, until)) => Ok(Authenticated {
                user,
                valid_until: until.map(SystemTime::from),
            }),
            // A store that cannot provision the user, or fails, says nothing about the token.
            Err(ApiError::Domain(error @ (ChatError::Unavailable(_) | ChatError::Internal(_)))) => {
                tracing::warn!(%error, cause = ?std::error::Error::source(&error), "socket token not checked");
                Err(AuthFailure::Unavailable)
            }
            Err(_) => Err(AuthFailure::Refused),
        }
    }
}

/// The Engine.IO engine with Socket.IO and the chat on top, over store `S`.
pub(crate) type ChatEngine<S> = Engine<SocketIoServer<ChatRealtime<S, Arc<Hub>, SocketAuth>>>;

/// A hub sized by the settings.
pub(crate) fn hub(settings: &SocketSettings) -> Arc<Hub> {
    Hub::new(settings.max_rooms, settings.max_sockets_per_user, GAP_GRACE)
}

/// The engine serving `/socket.io/`, with the chat on top.
pub(crate) fn engine<S: Store>(
    settings: &SocketSettings,
    chat: ChatService<S, Arc<Hub>>,
    hub: Arc<Hub>,
    authenticator: web::Data<Authenticator>,
) -> Arc<ChatEngine<S>> {
    let realtime = ChatRealtime::new(chat, hub, SocketAuth(authenticator));
    let sockets = SocketIoConfig {
        connect_timeout: settings.connect_timeout,
        inbound_queue: settings.inbound_queue,
        max_attachment_bytes: settings.max_payload,
        attachment_timeout: settings.attachment_timeout,
        ..SocketIoConfig::default()
    };
    let server = SocketIoServer::new(Arc::new(realtime), sockets);
    let config = EngineConfig {
        ping_interval: settings.ping_interval,
        ping_timeout: settings.ping_timeout,
        max_payload: settings.max_payload,
        outbound_queue: settings.outbound_queue,
        max_sessions_per_ip: settings.max_connections_per_ip,
        ..EngineConfig::default()
    };
    Arc::new(Engine::new(config, Arc::new(server)))
}
