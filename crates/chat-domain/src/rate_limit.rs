//! A per-user token bucket for sends, shared by every transport so that REST and Socket.IO
//! draw from the same allowance.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{ChatError, UserId};

/// How fast one user may send: `per_second` on average, bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendRate {
    /// Tokens added per second.
    pub per_second: f64,
    /// Bucket size: the most sends allowed at once after a pause.
    pub burst: u32,
}

impl Default for SendRate {
    /// Lets a person's burst of 200 messages through, then 20 a second.
    fn default() -> Self {
        SendRate {
            per_second: 20.0,
            burst: 200,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets beyond this many are pruned of full (idle) ones, bounding memory.
const PRUNE_ABOVE: usize = 10_000;

/// The buckets of every user who sent recently.
#[derive(Debug)]
pub struct RateLimiter {
    rate: SendRate,
    // A std Mutex: the critical section is a few arithmetic operations and never awaits.
    buckets: Mutex<HashMap<UserId, Bucket>>,
}

impl RateLimiter {
    /// A limiter with `rate` for every user.
    pub fn new(rate: SendRate) -> Self {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `user` at `now`, or says how long until one is available.
    pub fn acquire(&self, user: UserId, now: Instant) -> Result<(), ChatError> {
        let burst = f64::from(self.rate.burst.max(1));
        let refill = |bucket: &Bucket| {
            let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
            (bucket.tokens + elapsed * self.rate.per_second).min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, bucket| refill(bucket) < burst);
        }
        let bucket = buckets.entry(user).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let tokens = refill(bucket);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            return Ok(());
        }
        let missing = 1.0 - tokens;
        let wait = if self.rate.per_second > 0.0 {
            Duration::from_secs_f64(missing / self.rate.per_second)
        } else {
            Duration::from_secs(3600)
        };
        Err(ChatError::RateLimited {
            retry_after: wait.max(Duration::from_millis(1)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_applies() {
        let limiter = RateLimiter::new(SendRate {
            per_second: 10.0,
            burst: 3,
        });
        let start = Instant::now();
        let alice = UserId(1);
        for _ in 0..3 {
            limiter.acquire(alice, start).unwrap();
        }
        match limiter.acquire(alice, start) {
            Err(ChatError::RateLimited { retry_after }) => {
                assert!(retry_after <= Duration::from_millis(100), "{retry_after:?}");
                assert!(retry_after >= Duration::from_millis(99), "{retry_after:?}");
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        limiter.acquire(UserId(2), start).unwrap();
        limiter
            .acquire(alice, start + Duration::from_millis(100))
            .unwrap();
        assert!(
            limiter
                .acquire(alice, start + Duration::from_millis(100))
                .is_err()
        );
        for _ in 0..3 {
            limiter
                .acquire(alice, start + Duration::from_secs(10))
                .unwrap();
        }
        assert!(
            limiter
                .acquire(alice, start + Duration::from_secs(10))
                .is_err()
        );
    }
}
