//! The check after a reconnect storm: what each device received against the stored history of
//! its conversation from the moment it joined, read over REST
//! (`GET /api/chat/conversations/:id/messages?after=<seq>&limit=100`, page after page).

use std::collections::BTreeSet;
use std::net::SocketAddr;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::http::HttpConn;

/// The page size asked for (the server's largest).
const PAGE: usize = 100;

/// The seqs of a conversation's messages after `after`, ascending, as the server stored them.
pub(crate) async fn stored_seqs(
    addr: SocketAddr,
    token: &str,
    conversation: i64,
    after: u64,
) -> Result<Vec<u64>> {
    let mut conn = HttpConn::new(addr);
    let mut seqs = Vec::new();
    let mut cursor = after;
    loop {
        let path =
            format!("/api/chat/conversations/{conversation}/messages?after={cursor}&limit={PAGE}");
        let body = conn.get_ok(&path, token).await?.json()?;
        let page = body["data"]["messages"]
            .as_array()
            .with_context(|| format!("no data.messages in the answer to GET {path}"))?;
        let mut batch = page
            .iter()
            .map(|m| m["seq"].as_u64().context("a stored message without a seq"))
            .collect::<Result<Vec<u64>>>()?;
        // Listed newest first.
        batch.sort_unstable();
        let full = batch.len() >= PAGE;
        match batch.last() {
            Some(&last) if last > cursor => cursor = last,
            _ => break,
        }
        seqs.extend(batch);
        if !full {
            break;
        }
    }
    Ok(seqs)
}

/// How one device's deliveries compare with the stored history (all counts are events).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    /// Stored messages it never received.
    pub(crate) missing: u64,
    /// Extra copies of messages it had already received.
    pub(crate) duplicated: u64,
    /// Deliveries whose seq is lower than the one before (duplicates aside).
    pub(crate) out_of_order: u64,
    /// Distinct seqs received that are not in the stored history it expects.
    pub(crate) unexpected: u64,
}

impl Counts {
    /// Adds another device's counts.
    pub(crate) fn add(&mut self, other: Counts) {
        self.missing += other.missing;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.unexpected += other.unexpected;
    }

    /// Whether nothing is wrong.
    pub(crate) fn clean(&self) -> bool {
        *self == Counts::default()
    }
}

/// Compares `received` (seqs in arrival order) with `expected` (the stored seqs it should have).
pub(crate) fn compare(expected: &[u64], received: &[u64]) -> Counts {
    let expected: BTreeSet<u64> = expected.iter().copied().collect();
    let mut seen = BTreeSet::new();
    let mut counts = Counts::default();
    let mut previous = None;
    for &seq in received {
        if !seen.insert(seq) {
            counts.duplicated += 1;
            continue;
        }
        if previous.is_some_and(|p| seq < p) {
            counts.out_of_order += 1;
        }
        previous = Some(seq);
        if !expected.contains(&seq) {
            counts.unexpected += 1;
        }
    }
    counts.missing = expected.difference(&seen).count() as u64;
    counts
}

#[cfg(test)]
mod tests {
    use super::{Counts, compare};

    #[test]
    fn counts_missing_duplicated_reordered_and_unexpected_deliveries() {
        assert!(compare(&[3, 4, 5], &[3, 4, 5]).clean());
        assert_eq!(
            compare(&[3, 4, 5, 6], &[3, 5, 5, 4, 9]),
            Counts {
                missing: 1,
                duplicated: 1,
                out_of_order: 1,
                unexpected: 1,
            }
        );
        assert_eq!(compare(&[1, 2], &[]).missing, 2);
    }
}
