//! Webhooks for offline users (`CHAT_WEBHOOK_*`): off unless `CHAT_WEBHOOK_URL` is set.

use std::time::Duration;

use chat_webhooks::WebhookConfig;

use super::{ConfigError, Source, bad, positive};

/// `CHAT_WEBHOOK_URL` (an http or https URL) with `CHAT_WEBHOOK_SECRET` (16+ characters), and
/// the delivery knobs: `CHAT_WEBHOOK_TIMEOUT_MS` (5000), `CHAT_WEBHOOK_MAX_ATTEMPTS` (10),
/// `CHAT_WEBHOOK_BACKOFF_MS` (1000, doubled after each failure), `CHAT_WEBHOOK_MAX_BACKOFF_SECS`
/// (600), `CHAT_WEBHOOK_POLL_MS` (500), `CHAT_WEBHOOK_CONCURRENCY` (16).
pub(super) fn webhooks(src: &impl Source) -> Result<Option<WebhookConfig>, ConfigError> {
    let Some(url) = src.get("CHAT_WEBHOOK_URL") else {
        if src.get("CHAT_WEBHOOK_SECRET").is_some() {
            return Err(bad(
                "CHAT_WEBHOOK_URL",
                "CHAT_WEBHOOK_SECRET is set: set the URL events go to as well",
            ));
        }
        return Ok(None);
    };
    let url = url.trim().to_owned();
    WebhookConfig::check_url(&url).map_err(|reason| bad("CHAT_WEBHOOK_URL", reason))?;
    let secret = src
        .get("CHAT_WEBHOOK_SECRET")
        .filter(|secret| secret.len() >= 16)
        .ok_or_else(|| {
            bad(
                "CHAT_WEBHOOK_SECRET",
                "must be set, at least 16 characters, to sign events",
            )
        })?;
    let millis = |var: &'static str, default: usize| {
        positive(src, var, default).map(|ms| Duration::from_millis(ms as u64))
    };
    Ok(Some(WebhookConfig {
        url,
        secret,
        timeout: millis("CHAT_WEBHOOK_TIMEOUT_MS", 5_000)?,
        max_attempts: u32::try_from(positive(src, "CHAT_WEBHOOK_MAX_ATTEMPTS", 10)?)
            .map_err(|_| bad("CHAT_WEBHOOK_MAX_ATTEMPTS", "is too large"))?,
        backoff: millis("CHAT_WEBHOOK_BACKOFF_MS", 1_000)?,
        max_backoff: Duration::from_secs(
            positive(src, "CHAT_WEBHOOK_MAX_BACKOFF_SECS", 600)? as u64
        ),
        poll: millis("CHAT_WEBHOOK_POLL_MS", 500)?,
        concurrency: positive(src, "CHAT_WEBHOOK_CONCURRENCY", 16)?,
    }))
}
