//! Connection state recovery: whether sockets keep recoverable sessions and for how long.

use std::time::Duration;

use chat_realtime::chat::RecoveryConfig;

use super::{ConfigError, Source, parsed, positive};

/// `CHAT_SOCKET_RECOVERY` (default true), `CHAT_RECOVERY_WINDOW_SECS` (default 120, as the
/// reference server's two minutes) and `CHAT_RECOVERY_MAX_EVENTS` (per room, default 1000).
pub(super) fn recovery(src: &impl Source) -> Result<RecoveryConfig, ConfigError> {
    let defaults = RecoveryConfig::default();
    Ok(RecoveryConfig {
        enabled: parsed(
            src,
            "CHAT_SOCKET_RECOVERY",
            defaults.enabled,
            "true or false",
        )?,
        window: Duration::from_secs(parsed(
            src,
            "CHAT_RECOVERY_WINDOW_SECS",
            defaults.window.as_secs(),
            "a number of seconds",
        )?),
        max_events_per_room: positive(
            src,
            "CHAT_RECOVERY_MAX_EVENTS",
            defaults.max_events_per_room,
        )?,
    })
}
