//! A budget for the operator's log: the connections the server closes or refuses on purpose are
//! logged at `info`, but a flood of them (an attacker's, a reconnect storm's) must not flood the
//! log. Each kind of notice gets a rate of its own; lines over it are counted, not written, and
//! the next line written says how many were held back.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{KeyedLimiter, Rate};

/// Lines per second each kind of notice may write on average.
const PER_SECOND: f64 = 5.0;
/// Lines each kind may write at once after a quiet spell.
const BURST: u32 = 20;

/// The rate-limited budget of one component's notices, by kind (a disconnect reason, say).
#[derive(Debug)]
pub struct NoticeBudget {
    limiter: KeyedLimiter<&'static str>,
    /// Lines held back since the last line written.
    held: AtomicU64,
    /// Lines held back since start-up.
    suppressed: AtomicU64,
}

impl Default for NoticeBudget {
    fn default() -> Self {
        Self::new(Rate {
            per_second: PER_SECOND,
            burst: BURST,
        })
    }
}

impl NoticeBudget {
    /// A budget of `rate` lines for each kind.
    pub fn new(rate: Rate) -> Self {
        Self {
            limiter: KeyedLimiter::new(rate),
            held: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether a line of `kind` may be written now: `Some(n)` with the number of lines held
    /// back since the last one written (to write with it), or `None` when the line must be
    /// dropped (it is counted).
    pub fn admit(&self, kind: &'static str) -> Option<u64> {
        if self.limiter.check(&kind).is_ok() {
            Some(self.held.swap(0, Ordering::Relaxed))
        } else {
            self.held.fetch_add(1, Ordering::Relaxed);
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// How many lines were dropped since start-up, for metrics.
    pub fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_to_the_burst_and_the_next_line_counts_what_was_held() {
        let budget = NoticeBudget::new(Rate {
            per_second: 0.0,
            burst: 3,
        });
        let written = (0..1000)
            .filter(|_| budget.admit("flooding").is_some())
            .count();
        assert_eq!(written, 3);
        assert_eq!(budget.suppressed(), 997);
        // Another kind has a budget of its own, and reports what the flood held back.
        assert_eq!(budget.admit("slow_client"), Some(997));
        assert_eq!(budget.admit("slow_client"), Some(0));
    }
}
