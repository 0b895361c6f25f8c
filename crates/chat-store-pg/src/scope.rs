//! The membership checks that scope every read of messages to the reader's conversations, as
//! query expressions to filter by.

use diesel::dsl::exists;
use diesel::prelude::*;

use crate::schema::{conversation_members, messages};

/// Whether `viewer` belongs to `conversation`.
#[diesel::dsl::auto_type]
pub(crate) fn member_of(viewer: i64, conversation: i64) -> _ {
    exists(
        conversation_members::table
            .filter(conversation_members::conversation_id.eq(conversation))
            .filter(conversation_members::user_id.eq(viewer)),
    )
}

/// Whether `viewer` belongs to the conversation of the `messages` row being read.
#[diesel::dsl::auto_type]
pub(crate) fn member_of_its_conversation(viewer: i64) -> _ {
    exists(
        conversation_members::table
            .filter(conversation_members::conversation_id.eq(messages::conversation_id))
            .filter(conversation_members::user_id.eq(viewer)),
    )
}
