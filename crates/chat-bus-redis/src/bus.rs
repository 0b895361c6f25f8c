//! [`RedisBus`]: the [`Bus`] of a cluster. Publishing delivers to this node's hub at once and
//! queues the event for Redis; a task publishes the queue, another delivers what the other
//! nodes publish.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};
use std::time::Duration;

use chat_domain::{ChatEvent, EventSink, StreamEvent};
use chat_realtime::chat::{Bus, Hub, Peers, Relay};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

use crate::envelope::{IncomingBody, OutgoingBody, decode, encode};
use crate::link::Link;
use crate::{publisher, subscriber};

/// How a node reaches its cluster's Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisBusConfig {
    /// `redis://[user:password@]host:port[/db]` (`REDIS_URL`; `rediss://` is not built in).
    pub url: String,
    /// The hash tag of every key and channel (`chat` gives `{chat}:events`, ...), so that
    /// several deployments can share one Redis.
    pub prefix: String,
    /// Events waiting to be published, at most; beyond it they are dropped (and read from
    /// PostgreSQL by the other nodes).
    pub queue: usize,
}

/// Whether `url` is a Redis URL the bus can use (it is not connected to); why not, if not.
pub fn check_url(url: &str) -> Result<(), String> {
    redis::Client::open(url)
        .map(drop)
        .map_err(|error| error.to_string())
}

impl RedisBusConfig {
    /// The settings for `url`, with the `chat` prefix and a queue of 65,536 events.
    pub fn new(url: impl Into<String>) -> Self {
        RedisBusConfig {
            url: url.into(),
            prefix: "chat".to_owned(),
            queue: 65_536,
        }
    }

    /// The name of key or channel `name`, under the deployment's hash tag.
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.hash_tag())
    }

    /// The deployment's hash tag, `{chat}`: what every key and the channel start with.
    pub(crate) fn hash_tag(&self) -> String {
        format!("{{{}}}", self.prefix)
    }
}

/// Why the bus could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// `REDIS_URL` is not a Redis URL this client can use.
    #[error("REDIS_URL: {0}")]
    Url(#[source] redis::RedisError),
}

/// What takes in the events other nodes committed.
type Observer = Box<dyn Fn(&ChatEvent) + Send + Sync>;

/// How long a command may wait for Redis before it counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting to Redis may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The cluster's bus, on Redis pub/sub. Create it with [`RedisBus::start`] inside the Tokio
/// runtime that serves the node; its tasks end when it is dropped.
pub struct RedisBus {
    /// This node's id, random at each start (so that a restarted node is a new node).
    node: String,
    config: RedisBusConfig,
    client: redis::Client,
    /// Commands (publishing and presence): one multiplexed connection that reconnects by itself.
    connection: ConnectionManager,
    /// Encoded messages waiting for the publisher task.
    outbox: mpsc::Sender<Vec<u8>>,
    /// Messages dropped because the outbox was full (Redis slow or away).
    dropped: AtomicU64,
    hubs: RwLock<Vec<Weak<Hub>>>,
    /// Takes in what other nodes committed (the chat service's caches follow it).
    observer: OnceLock<Observer>,
    /// Whether events from the other nodes arrive.
    pub(crate) subscription: Link,
    /// Whether commands (publishing, presence) get through.
    pub(crate) commands: Link,
    this: Weak<RedisBus>,
}

impl RedisBus {
    /// The bus of `config`, connecting in the background: until both its connections work
    /// the node is not ready ([`EventSink::connected`]), and sends succeed all the same.
    pub fn start(config: RedisBusConfig) -> Result<Arc<RedisBus>, BusError> {
        let client = redis::Client::open(config.url.as_str()).map_err(BusError::Url)?;
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), settings)
            .map_err(BusError::Url)?;
        let (outbox, queued) = mpsc::channel(config.queue.max(1));
        let node = uuid::Uuid::new_v4().simple().to_string();
        let bus = Arc::new_cyclic(|this| RedisBus {
            node,
            config,
            client,
            connection,
            outbox,
            dropped: AtomicU64::new(0),
            hubs: RwLock::default(),
            observer: OnceLock::new(),
            subscription: Link::new("subscription"),
            commands: Link::new("commands"),
            this: Weak::clone(this),
        });
        let channel = bus.config.key("events");
        tokio::spawn(publisher::run(
            Arc::downgrade(&bus),
            queued,
            bus.connection.clone(),
            channel.clone(),
        ));
        tokio::spawn(subscriber::run(
            Arc::downgrade(&bus),
            bus.client.clone(),
            channel,
        ));
        Ok(bus)
    }

    /// This node's id in the cluster.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The settings the bus was started with.
    pub fn config(&self) -> &RedisBusConfig {
        &self.config
    }

    /// A handle on the command connection (cheap: it is multiplexed).
    pub(crate) fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    /// Calls `observer` with every event another node committed, before it is delivered.
    /// Set once; a second observer is ignored.
    pub fn observe_remote(&self, observer: impl Fn(&ChatEvent) + Send + Sync + 'static) {
        let _ = self.observer.set(Box::new(observer));
    }

    /// Messages dropped since start-up because Redis could not take them fast enough (the
    /// other nodes read those events from PostgreSQL).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn queue(&self, message: Vec<u8>) {
        if self.outbox.try_send(message).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Delivers one message from the channel to this node's hubs, unless this node sent it.
    pub(crate) fn received(&self, bytes: &[u8]) {
        let body = match decode(&self.node, bytes) {
            None => return,
            Some(Ok(body)) => body,
            Some(Err(error)) => {
                tracing::debug!(%error, "a bus message this node cannot read was dropped");
                return;
            }
        };
        let hubs = self.hubs.read().unwrap_or_else(PoisonError::into_inner);
        match body {
            IncomingBody::Event(event) => {
                if let Some(observer) = self.observer.get() {
                    observer(&event.event);
                }
                deliver(&hubs, *event);
            }
            IncomingBody::Relay(relay) => {
                for hub in hubs.iter().filter_map(Weak::upgrade) {
                    hub.relayed(&relay);
                }
            }
        }
    }
}

/// Hands `event` to each hub (moving it into the last).
fn deliver(hubs: &[Weak<Hub>], event: StreamEvent) {
    if let [only] = hubs {
        if let Some(hub) = only.upgrade() {
            hub.receive(event);
        }
        return;
    }
    for hub in hubs.iter().filter_map(Weak::upgrade) {
        hub.receive(event.clone());
    }
}

impl EventSink for RedisBus {
    fn publish(&self, event: StreamEvent) {
        self.queue(encode(&self.node, OutgoingBody::Event(&event)));
        let hubs = self.hubs.read().unwrap_or_else(PoisonError::into_inner);
        deliver(&hubs, event);
    }

    fn connected(&self) -> bool {
        self.subscription.is_up() && self.commands.is_up()
    }
}

impl Bus for RedisBus {
    fn subscribe(&self, hub: &Arc<Hub>) {
        {
            let mut hubs = self.hubs.write().unwrap_or_else(PoisonError::into_inner);
            hubs.retain(|known| known.strong_count() > 0);
            hubs.push(Arc::downgrade(hub));
        }
        if let Some(this) = self.this.upgrade() {
            hub.attach_peers(this);
        }
    }
}

impl Peers for RedisBus {
    fn relay(&self, relay: Relay) {
        self.queue(encode(&self.node, OutgoingBody::Relay(&relay)));
    }
}
