//! The knobs of the rules that a deployment sets: bounds, send rate, and who may find whom.

use crate::{Directory, Limits, SendRate};

/// Everything configurable about the rules, read once at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Bounds on input and pages.
    pub limits: Limits,
    /// How fast each user may send.
    pub send_rate: SendRate,
    /// Whose profiles users may find.
    pub directory: Directory,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            limits: Limits::default(),
            send_rate: SendRate::default(),
            directory: Directory::Everyone,
        }
    }
}
