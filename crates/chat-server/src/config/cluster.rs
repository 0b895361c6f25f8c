//! A cluster of nodes: the Redis that carries events between them, and how long a silent node
//! still counts for presence.

use std::time::Duration;

use super::{ConfigError, Source, bad, positive};

/// How the node joins a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSettings {
    /// `REDIS_URL` (the name Node deployments of Socket.IO's Redis adapter use).
    pub redis_url: String,
    /// `CHAT_REDIS_PREFIX`: the hash tag of the deployment's keys and channel (default `chat`).
    pub prefix: String,
    /// `CHAT_PRESENCE_TTL_SECS`: how long after its last heartbeat a node's users stop
    /// counting as online (default 15 s; nodes beat every third of it).
    pub presence_ttl: Duration,
}

/// Without `REDIS_URL`, `None`: the node runs alone on its in-process bus.
pub(super) fn cluster(src: &impl Source) -> Result<Option<ClusterSettings>, ConfigError> {
    let Some(redis_url) = src.get("REDIS_URL") else {
        return Ok(None);
    };
    // The URL may hold a password: it is not repeated.
    let expected = "expected redis://[user:password@]host:port[/db] or redis+unix:///path \
                    (rediss:// is not supported)";
    if !redis_url.starts_with("redis://") && !redis_url.starts_with("redis+unix://") {
        return Err(bad("REDIS_URL", expected));
    }
    if let Err(reason) = chat_bus_redis::check_url(&redis_url) {
        return Err(bad("REDIS_URL", format!("{expected}: {reason}")));
    }
    let prefix = src
        .get("CHAT_REDIS_PREFIX")
        .unwrap_or_else(|| "chat".to_owned());
    if prefix.len() > 64
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(bad(
            "CHAT_REDIS_PREFIX",
            "expected up to 64 letters, digits, '_' or '-'",
        ));
    }
    let ttl = positive(src, "CHAT_PRESENCE_TTL_SECS", 15)?;
    if ttl > 3600 {
        return Err(bad(
            "CHAT_PRESENCE_TTL_SECS",
            format!("expected at most 3600 seconds, got {ttl}"),
        ));
    }
    Ok(Some(ClusterSettings {
        redis_url,
        prefix,
        presence_ttl: Duration::from_secs(u64::try_from(ttl).unwrap_or(15)),
    }))
}
