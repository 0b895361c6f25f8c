//! Typed ids, so that a user id can never be passed where a conversation id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw number, for storage and the wire.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A user, as the host application numbers them.
    UserId
);
id_type!(
    /// A conversation (direct or group).
    ConversationId
);
id_type!(
    /// A message, unique across conversations.
    MessageId
);
id_type!(
    /// A scheduled message, until it is sent (the message then gets a [`MessageId`]).
    ScheduledId
);
id_type!(
    /// A message's gapless position within its conversation, starting at 1; clients order and
    /// catch up by it.
    Seq
);

impl Seq {
    /// The position before the first message, where every read watermark starts.
    pub const ZERO: Seq = Seq(0);
}
