//! Page requests and cursors, validated once, and the page that comes back.

use serde::{Deserialize, Serialize};

use crate::{ChatError, Seq};

/// A numbered page (`page` from 1, `limit` clamped to the configured maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    /// The page number, from 1.
    pub page: u32,
    /// How many items per page.
    pub limit: u32,
}

impl PageRequest {
    /// Validates optional client values: missing ones take the defaults, non-positive ones
    /// are refused, an oversized `limit` is clamped to `max_limit`.
    pub fn parse(
        page: Option<i64>,
        limit: Option<i64>,
        default_limit: u32,
        max_limit: u32,
    ) -> Result<Self, ChatError> {
        let page = match page {
            None => 1,
            Some(p) if p >= 1 => {
                u32::try_from(p).map_err(|_| ChatError::invalid("page", "is too large"))?
            }
            Some(_) => return Err(ChatError::invalid("page", "must be a positive integer")),
        };
        let limit = match limit {
            None => default_limit.min(max_limit),
            Some(l) if l >= 1 => u32::try_from(l).unwrap_or(u32::MAX).min(max_limit),
            Some(_) => return Err(ChatError::invalid("limit", "must be a positive integer")),
        };
        Ok(PageRequest { page, limit })
    }

    /// How many items precede this page.
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.limit)
    }
}

/// Which slice of a conversation's history to read; cursors keep deep history as fast as the
/// newest page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageWindow {
    /// The seed's numbered pages, newest first.
    Page(PageRequest),
    /// The `limit` newest messages with `seq` below the cursor.
    Before {
        /// Exclusive upper bound.
        seq: Seq,
        /// How many messages at most.
        limit: u32,
    },
    /// The `limit` oldest messages with `seq` above the cursor (catching up).
    After {
        /// Exclusive lower bound.
        seq: Seq,
        /// How many messages at most.
        limit: u32,
    },
}

impl MessageWindow {
    /// The largest number of messages this window returns.
    pub fn limit(&self) -> u32 {
        match self {
            MessageWindow::Page(p) => p.limit,
            MessageWindow::Before { limit, .. } | MessageWindow::After { limit, .. } => *limit,
        }
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paged<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// How many items the whole list holds.
    pub total: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_request_defaults_clamps_and_refuses() {
        assert_eq!(
            PageRequest::parse(None, None, 50, 100).unwrap(),
            PageRequest { page: 1, limit: 50 }
        );
        assert_eq!(
            PageRequest::parse(Some(3), Some(1000), 50, 100)
                .unwrap()
                .limit,
            100
        );
        assert!(PageRequest::parse(Some(0), None, 50, 100).is_err());
        assert!(PageRequest::parse(None, Some(-1), 50, 100).is_err());
        assert!(PageRequest::parse(Some(i64::MAX), None, 50, 100).is_err());
        assert_eq!(
            PageRequest::parse(Some(3), Some(20), 50, 100)
                .unwrap()
                .offset(),
            40
        );
    }
}
