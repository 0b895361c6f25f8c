//! The realtime half of the composition root: the hub, the Socket.IO server over the
//! Engine.IO engine, and token verification shared with REST.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix_web::web;
use chat_api::{ApiError, Authenticator};
use chat_domain::{ChatError, ChatService, Store};
use chat_realtime::chat::{
    AuthFailure, Authenticate, Authenticated, Bus, ChatRealtime, Hub, HubConfig, PresenceRegistry,
    StoreBackfill,
};
use chat_realtime::engineio::{Engine, EngineConfig};
use chat_realtime::socketio::{SocketIoConfig, SocketIoServer};

use crate::config::SocketSettings;

/// How long an event that arrived ahead of its writer's next waits before the missing ones are
/// read from the store. Concurrent senders publish their commits from their own tasks, so the
/// next is usually microseconds late; a read from the store settles it when it is not.
const GAP_FILL_DELAY: Duration = Duration::from_millis(50);

/// How often a hub reads the store's head to find events the bus lost with nothing after them
/// (one query of eight rows).
const HEAD_CHECK: Duration = Duration::from_secs(1);

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

/// The bus of this node: its own process's, or its cluster's.
pub(crate) type NodeBus = Arc<dyn Bus>;

/// The Engine.IO engine with Socket.IO and the chat on top, over store `S`.
pub(crate) type ChatEngine<S> = Engine<SocketIoServer<ChatRealtime<S, NodeBus, SocketAuth>>>;

/// This node's hub, sized by the settings, subscribed to the bus and delivering from the
/// store's head of now (earlier events are history).
pub(crate) async fn hub<S: Store>(
    settings: &SocketSettings,
    store: &S,
    bus: &NodeBus,
) -> Result<Arc<Hub>, ChatError> {
    let hub = Hub::new(HubConfig {
        max_rooms: settings.max_rooms,
        max_sockets_per_user: settings.max_sockets_per_user,
        gap_fill_delay: GAP_FILL_DELAY,
        head_check: HEAD_CHECK,
        offsets: settings.recovery.enabled,
    });
    bus.subscribe(&hub);
    hub.start_at(
        store.stream_head().await?,
        Arc::new(StoreBackfill(store.clone())),
    );
    Ok(hub)
}

/// How long a socket session may stay held before it is forgotten: a process that was killed
/// never let its sessions go, and other nodes' live sessions must not be taken for its.
const MAX_HELD_SESSION: Duration = Duration::from_secs(24 * 3600);

/// Forgets, every minute, the socket sessions let go longer ago than the recovery window, and
/// those held longer than [`MAX_HELD_SESSION`].
pub(crate) fn prune_sessions<S: Store>(store: S, window: Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            match store.prune_sessions(window, MAX_HELD_SESSION).await {
                Ok(0) => {}
                Ok(pruned) => {
                    tracing::debug!(sessions = pruned, "expired socket sessions forgotten")
                }
                Err(error) => tracing::warn!(%error, "expired socket sessions not forgotten yet"),
            }
        }
    });
}

/// The engine serving `/socket.io/`, with the chat on top; presence is decided by `presence`
/// in a cluster, by this node's sockets otherwise.
pub(crate) fn engine<S: Store>(
    settings: &SocketSettings,
    chat: ChatService<S, NodeBus>,
    hub: Arc<Hub>,
    authenticator: web::Data<Authenticator>,
    presence: Option<Arc<dyn PresenceRegistry>>,
) -> Arc<ChatEngine<S>> {
    let mut realtime =
        ChatRealtime::new(chat, hub, SocketAuth(authenticator)).with_recovery(settings.recovery);
    if let Some(registry) = presence {
        realtime = realtime.with_presence(registry);
    }
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

/// The cluster's side of a node: the Redis bus (also the node's [`Bus`]) and presence across
/// nodes.
pub(crate) mod cluster {
    use std::sync::Arc;

    use chat_bus_redis::{BusError, RedisBus, RedisBusConfig, RedisPresence};
    use chat_domain::{ChatService, Store};
    use chat_realtime::chat::{Hub, PresenceAnnouncer, PresenceRegistry};

    use super::NodeBus;
    use crate::config::ClusterSettings;

    /// The Redis bus of `settings`, connecting in the background.
    pub(crate) fn bus(settings: &ClusterSettings) -> Result<Arc<RedisBus>, BusError> {
        let mut config = RedisBusConfig::new(settings.redis_url.clone());
        config.prefix.clone_from(&settings.prefix);
        let bus = RedisBus::start(config)?;
        tracing::info!(
            node = bus.node(),
            prefix = settings.prefix,
            "joining the cluster on Redis"
        );
        Ok(bus)
    }

    /// Wires `chat` and `hub` to the cluster: the chat service follows what other nodes
    /// commit, and presence is kept across nodes.
    pub(crate) fn join<S: Store>(
        bus: &Arc<RedisBus>,
        settings: &ClusterSettings,
        chat: &ChatService<S, NodeBus>,
        hub: &Arc<Hub>,
    ) -> Arc<dyn PresenceRegistry> {
        let observer = chat.clone();
        bus.observe_remote(move |event| observer.observe_remote(event));
        let announcer = Arc::new(PresenceAnnouncer::new(chat.clone(), Arc::clone(hub)));
        RedisPresence::start(bus, hub, announcer, settings.presence_ttl)
    }
}
