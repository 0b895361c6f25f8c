//! Latency samples and their summary (every sample is kept: a run has at most a few hundred
//! thousand, so sorting them is cheaper and more exact than a histogram).

use std::time::Duration;

use serde::Serialize;

/// Recorded latencies in microseconds.
#[derive(Debug, Default, Clone)]
pub(crate) struct Latencies {
    /// One entry per sample.
    micros: Vec<u64>,
}

/// Percentiles of a set of latencies, in milliseconds.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(crate) struct Summary {
    /// Number of samples.
    pub(crate) count: usize,
    /// Median.
    pub(crate) p50_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// Largest.
    pub(crate) max_ms: f64,
    /// Arithmetic mean.
    pub(crate) mean_ms: f64,
}

impl Latencies {
    /// Room for `n` samples.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            micros: Vec::with_capacity(n),
        }
    }

    /// Adds one sample.
    pub(crate) fn record(&mut self, latency: Duration) {
        self.micros
            .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// Adds all of `other`'s samples.
    pub(crate) fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    /// Percentiles (nearest rank); all zero when there are no samples.
    pub(crate) fn summary(&mut self) -> Summary {
        self.micros.sort_unstable();
        let n = self.micros.len();
        if n == 0 {
            return Summary::default();
        }
        let rank = |q: f64| {
            let index = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            ms(self.micros[index])
        };
        let sum: u64 = self.micros.iter().sum();
        Summary {
            count: n,
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: ms(self.micros[n - 1]),
            mean_ms: sum as f64 / n as f64 / 1000.0,
        }
    }
}

/// Microseconds as milliseconds.
fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Latencies;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        for ms in (1..=100).rev() {
            l.record(Duration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        assert!((s.p50_ms - 50.0).abs() < 1e-9);
        assert!((s.p99_ms - 99.0).abs() < 1e-9);
        assert!((s.max_ms - 100.0).abs() < 1e-9);
        assert_eq!(Latencies::default().summary().count, 0);
    }
}
