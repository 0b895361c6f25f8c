//! The limits on credentials work: how often logins and registrations may be tried, and how
//! many password hashes run and wait at once.

use chat_api::MetricsToken;
use chat_api::auth::HashingLimits;
use chat_domain::{AccountRates, Rate};

use super::{ConfigError, Source, bad, parsed, positive};

/// `CHAT_LOGIN_RATE_PER_MIN` / `CHAT_LOGIN_BURST` (per account), `CHAT_LOGIN_IP_RATE_PER_MIN` /
/// `CHAT_LOGIN_IP_BURST` (per address), `CHAT_REGISTER_RATE_PER_MIN` / `CHAT_REGISTER_BURST`
/// (per address); the defaults are those of [`AccountRates::default`].
pub(super) fn account_rates(src: &impl Source) -> Result<AccountRates, ConfigError> {
    let rate = |per_min: &'static str, burst: &'static str, defaults: (usize, usize)| {
        let per_minute = u32::try_from(positive(src, per_min, defaults.0)?)
            .map_err(|_| bad(per_min, "is too large"))?;
        let burst = u32::try_from(positive(src, burst, defaults.1)?)
            .map_err(|_| bad(burst, "is too large"))?;
        Ok::<_, ConfigError>(Rate::per_minute(per_minute, burst))
    };
    Ok(AccountRates {
        login_per_account: rate("CHAT_LOGIN_RATE_PER_MIN", "CHAT_LOGIN_BURST", (10, 10))?,
        login_per_address: rate(
            "CHAT_LOGIN_IP_RATE_PER_MIN",
            "CHAT_LOGIN_IP_BURST",
            (30, 30),
        )?,
        register_per_address: rate("CHAT_REGISTER_RATE_PER_MIN", "CHAT_REGISTER_BURST", (5, 10))?,
    })
}

/// `CHAT_HASH_CONCURRENCY` (default: one per core) and `CHAT_HASH_QUEUE` (default 32; 0 lets
/// only the running hashes in).
pub(super) fn hashing(src: &impl Source) -> Result<HashingLimits, ConfigError> {
    let defaults = HashingLimits::default();
    Ok(HashingLimits {
        concurrent: positive(src, "CHAT_HASH_CONCURRENCY", defaults.concurrent)?,
        queue: parsed(
            src,
            "CHAT_HASH_QUEUE",
            defaults.queue,
            "a number of waiting requests",
        )?,
    })
}

/// `CHAT_METRICS_TOKEN`: the bearer token `/metrics` asks for; unset serves it to anyone.
/// At least 16 characters, like `CHAT_ADMIN_TOKEN`.
pub(super) fn metrics_token(src: &impl Source) -> Result<Option<MetricsToken>, ConfigError> {
    let token = src.get("CHAT_METRICS_TOKEN");
    if token.as_ref().is_some_and(|t| t.len() < 16) {
        return Err(bad("CHAT_METRICS_TOKEN", "must be at least 16 characters"));
    }
    Ok(token.map(MetricsToken))
}
