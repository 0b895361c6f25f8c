//! Presence across the nodes of a cluster, kept in Redis: each node records which users hold
//! a socket on it, and beats every third of the TTL; a user is online while any node that
//! still beats holds one of their sockets. When a node stops beating (killed, cut off), the
//! first node to notice after the TTL forgets it and announces `user_offline`, once, for its
//! users who are on no other node. Each change is a Lua script, so that concurrent nodes
//! never both announce the same change.
//!
//! Keys (under the deployment's hash tag, `{chat}` by default): `nodes` (a sorted set of node
//! ids by their last beat), `node:<id>:users` and `user:<id>:nodes` (sets), and `epoch` (set
//! once per life of Redis's data, so that a node tells Redis having restarted empty, which
//! announced nobody offline, from itself having been reaped, which did).

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chat_domain::UserId;
use chat_realtime::chat::{AnnouncePresence, Hub, PresenceRegistry};
use redis::Script;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use crate::{RedisBus, RedisBusConfig};

/// Presence changes taken in at once, at most.
const BATCH: usize = 1024;

/// How long announcements wait after Redis comes back: longer than the other nodes take to
/// subscribe again (their longest pause between attempts is 2 s).
const REJOIN_GRACE: Duration = Duration::from_millis(2500);

/// Presence across nodes: the [`PresenceRegistry`] a cluster's nodes share.
pub struct RedisPresence {
    changes: mpsc::UnboundedSender<UserId>,
}

impl RedisPresence {
    /// Records `hub`'s users on `bus`'s Redis and announces, through `announcer`, the users
    /// whose presence across nodes changed; nodes silent for `ttl` are forgotten. Call it
    /// inside the node's Tokio runtime; the task ends when the registry is dropped.
    pub fn start(
        bus: &Arc<RedisBus>,
        hub: &Arc<Hub>,
        announcer: Arc<dyn AnnouncePresence>,
        ttl: Duration,
    ) -> Arc<RedisPresence> {
        let (changes, queued) = mpsc::unbounded_channel();
        let tracker = Tracker {
            bus: Arc::downgrade(bus),
            hub: Arc::downgrade(hub),
            announcer,
            keys: Keys::new(bus.config(), bus.node()),
            connection: bus.connection(),
            ttl,
            scripts: Scripts::default(),
            epoch: None,
            held: None,
        };
        tokio::spawn(tracker.run(queued));
        Arc::new(RedisPresence { changes })
    }
}

impl PresenceRegistry for RedisPresence {
    fn changed(&self, user: UserId) {
        let _ = self.changes.send(user);
    }
}

impl RedisBus {
    /// Which of `users` hold a socket on some node now: those whose `user:<id>:nodes` set is
    /// not empty (a node that died counts until it is reaped, within the presence TTL). One
    /// round trip, however many users.
    pub async fn connected_users(
        &self,
        users: &[UserId],
    ) -> Result<HashSet<UserId>, redis::RedisError> {
        if users.is_empty() {
            // Redis refuses an empty pipeline.
            return Ok(HashSet::new());
        }
        let keys = Keys::new(self.config(), self.node());
        let mut pipe = redis::pipe();
        for user in users {
            pipe.exists(keys.user_nodes(*user));
        }
        let found: Vec<bool> = pipe.query_async(&mut self.connection()).await?;
        Ok(users
            .iter()
            .zip(found)
            .filter_map(|(user, connected)| connected.then_some(*user))
            .collect())
    }
}

/// The keys a node uses.
struct Keys {
    prefix: String,
    node: String,
    nodes: String,
    epoch: String,
    node_users: String,
}

impl Keys {
    fn new(config: &RedisBusConfig, node: &str) -> Self {
        let prefix = config.hash_tag();
        Keys {
            nodes: format!("{prefix}:nodes"),
            epoch: format!("{prefix}:epoch"),
            node_users: format!("{prefix}:node:{node}:users"),
            node: node.to_owned(),
            prefix,
        }
    }

    fn user_nodes(&self, user: UserId) -> String {
        format!("{}:user:{}:nodes", self.prefix, user.get())
    }
}

struct Scripts {
    set_presence: Script,
    heartbeat: Script,
    reap: Script,
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts {
            set_presence: Script::new(include_str!("scripts/set_presence.lua")),
            heartbeat: Script::new(include_str!("scripts/heartbeat.lua")),
            reap: Script::new(include_str!("scripts/reap.lua")),
        }
    }
}

/// The task that keeps this node's part of presence in Redis.
struct Tracker {
    bus: Weak<RedisBus>,
    hub: Weak<Hub>,
    announcer: Arc<dyn AnnouncePresence>,
    keys: Keys,
    connection: ConnectionManager,
    ttl: Duration,
    scripts: Scripts,
    /// The epoch of Redis's presence data at the last beat.
    epoch: Option<String>,
    /// Announcements held after Redis came back, and until when.
    held: Option<(tokio::time::Instant, Vec<(UserId, bool)>)>,
}

/// What a node unknown to Redis records again.
struct Resync {
    /// Every user it holds or had recorded.
    users: Vec<UserId>,
    /// Whether their changes are announced (it was reaped), or recorded silently (Redis lost
    /// its data, and nobody was told anything).
    announce: bool,
}

impl Tracker {
    async fn run(mut self, mut changes: mpsc::UnboundedReceiver<UserId>) {
        let mut beat = tokio::time::interval((self.ttl / 3).max(Duration::from_millis(100)));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Users whose state this node has still to record; all of them after a loss.
        let mut pending: HashSet<UserId> = HashSet::new();
        // Pending users whose change is recorded without being announced.
        let mut silent: HashSet<UserId> = HashSet::new();
        let mut stalled = false;
        let mut received = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                count = changes.recv_many(&mut received, BATCH) => {
                    if count == 0 {
                        return;
                    }
                    pending.extend(received.drain(..));
                    if stalled {
                        continue;
                    }
                }
                _ = beat.tick() => {
                    if self.bus.strong_count() == 0 {
                        return;
                    }
                    self.release_held();
                    let outcome = self.beat().await;
                    if stalled && outcome.is_ok() {
                        // Back after a loss: the other nodes may not listen again yet.
                        self.hold();
                    }
                    match outcome {
                        Ok(Some(resync)) if resync.announce => pending.extend(resync.users),
                        Ok(Some(resync)) => {
                            // Users whose sockets came or went meanwhile are announced; the
                            // others are only recorded again.
                            for user in resync.users {
                                if pending.insert(user) {
                                    silent.insert(user);
                                }
                            }
                        }
                        Ok(None) => {}
                        Err(error) => {
                            self.lost(&error);
                            stalled = true;
                            continue;
                        }
                    }
                }
            }
            stalled = self.record(&mut pending, &mut silent).await.is_err();
        }
    }

    /// Beats, and forgets the nodes that stopped. `Some` when this node was unknown to Redis
    /// and must record every user it knows of again.
    async fn beat(&mut self) -> redis::RedisResult<Option<Resync>> {
        let fresh_epoch = uuid::Uuid::new_v4().simple().to_string();
        let (unknown, epoch): (i64, String) = self
            .scripts
            .heartbeat
            .key(&self.keys.nodes)
            .key(&self.keys.epoch)
            .arg(&self.keys.node)
            .arg(fresh_epoch)
            .invoke_async(&mut self.connection)
            .await?;
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        let offline: Vec<i64> = self
            .scripts
            .reap
            .key(&self.keys.nodes)
            .arg(ttl_ms)
            .arg(&self.keys.prefix)
            .invoke_async(&mut self.connection)
            .await?;
        for user in offline {
            self.announce(UserId(user), false);
        }
        let known_epoch = self.epoch.replace(epoch.clone());
        if unknown == 0 {
            return Ok(None);
        }
        // Recorded users this node no longer holds are recorded as gone; held ones as here.
        let recorded: Vec<i64> = redis::cmd("SMEMBERS")
            .arg(&self.keys.node_users)
            .query_async(&mut self.connection)
            .await?;
        let mut users: Vec<UserId> = recorded.into_iter().map(UserId).collect();
        if let Some(hub) = self.hub.upgrade() {
            users.extend(hub.users_here());
        }
        // Reaped while cut off: its users were announced offline, and come back online. Redis
        // restarted empty (a new epoch): nobody was announced anything, and nothing is.
        let announce = known_epoch.as_deref() == Some(epoch.as_str());
        Ok(Some(Resync { users, announce }))
    }

    /// Records the state of now of every pending user, announcing those whose presence across
    /// nodes changed unless they are `silent`; those not recorded stay pending.
    async fn record(
        &mut self,
        pending: &mut HashSet<UserId>,
        silent: &mut HashSet<UserId>,
    ) -> redis::RedisResult<()> {
        let Some(hub) = self.hub.upgrade() else {
            pending.clear();
            silent.clear();
            return Ok(());
        };
        let users: Vec<UserId> = pending.iter().copied().collect();
        for user in users {
            let here = hub.holds(user);
            let changed: i64 = match self
                .scripts
                .set_presence
                .key(&self.keys.node_users)
                .key(self.keys.user_nodes(user))
                .arg(&self.keys.node)
                .arg(user.get())
                .arg(if here { "1" } else { "0" })
                .invoke_async(&mut self.connection)
                .await
            {
                Ok(changed) => changed,
                Err(error) => {
                    self.lost(&error);
                    return Err(error);
                }
            };
            pending.remove(&user);
            if silent.remove(&user) {
                continue;
            }
            match changed {
                1 => self.announce(user, true),
                -1 => self.announce(user, false),
                _ => {}
            }
        }
        Ok(())
    }

    /// Announces `user`, or queues the announcement while they are held.
    fn announce(&mut self, user: UserId, online: bool) {
        match &mut self.held {
            Some((_, queued)) => queued.push((user, online)),
            None => self.announcer.announce(user, online),
        }
    }

    /// Holds announcements for [`REJOIN_GRACE`]: relays published before the other nodes
    /// subscribe again would be lost (pub/sub keeps nothing).
    fn hold(&mut self) {
        if self.held.is_none() {
            self.held = Some((tokio::time::Instant::now() + REJOIN_GRACE, Vec::new()));
        }
    }

    /// Announces what was held, in order, once the grace is over.
    fn release_held(&mut self) {
        if let Some((until, _)) = &self.held
            && tokio::time::Instant::now() >= *until
            && let Some((_, queued)) = self.held.take()
        {
            for (user, online) in queued {
                self.announcer.announce(user, online);
            }
        }
    }

    fn lost(&self, error: &redis::RedisError) {
        if let Some(bus) = self.bus.upgrade() {
            bus.commands.down(error);
        }
    }
}
