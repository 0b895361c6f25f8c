//! The realtime half of the composition root: the hub, the Socket.IO server over the
//! Engine.IO engine, and token verification shared with REST.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use chat_api::Authenticator;
use chat_domain::{ChatService, Store, UserId};
use chat_realtime::chat::{Authenticate, ChatRealtime, Hub};
use chat_realtime::engineio::{Engine, EngineConfig};
use chat_realtime::socketio::{SocketIoConfig, SocketIoServer};

use crate::config::SocketSettings;

/// How long the hub waits for a missing `seq` before delivering past the gap.
const GAP_GRACE: Duration = Duration::from_millis(250);

/// Socket tokens are verified, and their users provisioned, exactly as REST does it.
pub(crate) struct SocketAuth(pub(crate) web::Data<Authenticator>);

impl Authenticate for SocketAuth {
    async fn authenticate(&self, token: &str) -> Option<UserId> {
        self.0.authenticate(token).await.ok()
    }
}

/// The Engine.IO engine with Socket.IO and the chat on top, over store `S`.
pub(crate) type ChatEngine<S> = Engine<SocketIoServer<ChatRealtime<S, Arc<Hub>, SocketAuth>>>;

/// A hub sized by the settings.
pub(crate) fn hub(settings: &SocketSettings) -> Arc<Hub> {
    Hub::new(settings.max_rooms, GAP_GRACE)
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
        ..SocketIoConfig::default()
    };
    let server = SocketIoServer::new(Arc::new(realtime), sockets);
    let config = EngineConfig {
        ping_interval: settings.ping_interval,
        ping_timeout: settings.ping_timeout,
        max_payload: settings.max_payload,
        outbound_queue: settings.outbound_queue,
        ..EngineConfig::default()
    };
    Arc::new(Engine::new(config, Arc::new(server)))
}
