//! Keyed rate limits (sends per user, logins per address or account, connections per address),
//! all on one well-kept GCRA implementation (`governor`), with the memory of idle keys bounded.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// A rate: `per_second` on average, bursts of up to `burst` after a pause.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Allowances regained per second; 0 or less means one an hour (the burst only, in effect).
    pub per_second: f64,
    /// The most allowed at once after a pause (at least 1).
    pub burst: u32,
}

/// How fast one user may send (REST and Socket.IO draw from the same allowance).
pub type SendRate = Rate;

impl Default for Rate {
    /// Lets a person's burst of 200 messages through, then 20 a second.
    fn default() -> Self {
        Rate {
            per_second: 20.0,
            burst: 200,
        }
    }
}

impl Rate {
    /// `per_minute` on average with bursts of `burst`: the shape of login and registration limits.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        Rate {
            per_second: f64::from(per_minute) / 60.0,
            burst,
        }
    }

    fn quota(self) -> Quota {
        let period = if self.per_second > 0.0 && self.per_second.is_finite() {
            Duration::from_secs_f64(1.0 / self.per_second).max(Duration::from_nanos(1))
        } else {
            Duration::from_secs(3600)
        };
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_hour(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// Idle keys are dropped once there are more than this many, every [`PRUNE_EVERY`] checks.
const PRUNE_ABOVE: usize = 10_000;
/// How often (in checks) the key count is looked at.
const PRUNE_EVERY: u32 = 1024;

/// One [`Rate`] applied to each key separately (a user id, an IP address, a username).
///
/// Memory: one small entry per key seen within its refill time; keys whose allowance is full
/// again are pruned once there are more than 10,000, so a flood of distinct keys costs memory
/// only while it lasts.
pub struct KeyedLimiter<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    limiter: RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    checks: AtomicU32,
    /// The `limit` label under which refusals are counted, if they are.
    counted_as: Option<&'static str>,
}

/// The Prometheus counter of refusals by a limit clients run into, labelled `limit`
/// (docs/operations.md lists the names).
pub const REFUSALS_METRIC: &str = "chat_rate_limit_refusals_total";

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// A limiter on the monotonic clock.
    pub fn new(rate: Rate) -> Self {
        Self::with_clock(rate, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> KeyedLimiter<K, C> {
    /// A limiter on `clock` (a fake one in tests).
    pub fn with_clock(rate: Rate, clock: C) -> Self {
        KeyedLimiter {
            limiter: RateLimiter::new(
                rate.quota(),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
            checks: AtomicU32::new(0),
            counted_as: None,
        }
    }

    /// Counts this limiter's refusals in [`REFUSALS_METRIC`] under `limit` (a fixed name such
    /// as `send`, never a key: the label set stays bounded).
    pub fn counted_as(mut self, limit: &'static str) -> Self {
        self.counted_as = Some(limit);
        self
    }

    /// Counts one refusal, when this limiter's refusals are counted.
    fn refused(&self) {
        if let Some(limit) = self.counted_as {
            metrics::counter!(REFUSALS_METRIC, "limit" => limit).increment(1);
        }
    }

    /// Takes one allowance for `key`, or says how long until one is available (at least 1 ms,
    /// so that a `Retry-After` is never zero).
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1
            && self.limiter.len() > PRUNE_ABOVE
        {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            self.refused();
            self.wait(&not_until)
        })
    }

    /// How long until an allowance refused now is available: at least 1 ms, so that a
    /// `Retry-After` is never zero.
    fn wait(&self, not_until: &governor::NotUntil<C::Instant>) -> Duration {
        not_until
            .wait_time_from(self.clock.now())
            .max(Duration::from_millis(1))
    }

    /// Takes `n` allowances for `key` at once, or none: `Some(Err(wait))` says how long until
    /// all `n` are available, `None` that they never will be (more than the burst).
    pub fn check_n(&self, key: &K, n: std::num::NonZeroU32) -> Option<Result<(), Duration>> {
        let Ok(checked) = self.limiter.check_key_n(key, n) else {
            self.refused();
            return None;
        };
        Some(checked.map_err(|not_until| {
            self.refused();
            self.wait(&not_until)
        }))
    }

    /// How many keys are remembered now.
    pub fn tracked_keys(&self) -> usize {
        self.limiter.len()
    }
}

impl<K: Hash + Eq + Clone, C: Clock> std::fmt::Debug for KeyedLimiter<K, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("keys", &self.limiter.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;
    use crate::UserId;

    #[test]
    fn a_burst_passes_then_the_rate_applies() {
        let clock = FakeRelativeClock::default();
        let rate = Rate {
            per_second: 10.0,
            burst: 3,
        };
        let limiter = KeyedLimiter::with_clock(rate, clock.clone());
        let alice = UserId(1);
        for _ in 0..3 {
            limiter.check(&alice).unwrap();
        }
        let wait = limiter.check(&alice).unwrap_err();
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(wait >= Duration::from_millis(99), "{wait:?}");
        limiter.check(&UserId(2)).unwrap();
        clock.advance(Duration::from_millis(100));
        limiter.check(&alice).unwrap();
        assert!(limiter.check(&alice).is_err());
        clock.advance(Duration::from_secs(10));
        for _ in 0..3 {
            limiter.check(&alice).unwrap();
        }
        assert!(limiter.check(&alice).is_err());
    }

    #[test]
    fn idle_keys_are_forgotten_once_there_are_many() {
        let clock = FakeRelativeClock::default();
        let limiter = KeyedLimiter::with_clock(Rate::per_minute(60, 1), clock.clone());
        for key in 0..(PRUNE_ABOVE as u64 + 10) {
            limiter.check(&key).unwrap();
        }
        assert!(limiter.tracked_keys() > PRUNE_ABOVE);
        clock.advance(Duration::from_secs(2));
        for _ in 0..PRUNE_EVERY {
            limiter.check(&u64::MAX).unwrap_or_default();
        }
        assert!(limiter.tracked_keys() <= 1, "{}", limiter.tracked_keys());
    }

    #[test]
    fn a_zero_rate_is_the_burst_then_an_hour() {
        let clock = FakeRelativeClock::default();
        let limiter = KeyedLimiter::with_clock(
            Rate {
                per_second: 0.0,
                burst: 0,
            },
            clock,
        );
        limiter.check(&1u8).unwrap();
        let wait = limiter.check(&1u8).unwrap_err();
        assert!(wait > Duration::from_secs(3500), "{wait:?}");
    }
}
