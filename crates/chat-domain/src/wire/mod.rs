//! The wire: every record and event a client sees, as Rust types shared by REST, Socket.IO
//! and the OpenAPI document, so that a field is named once.
//!
//! - [`MessageView`] and [`UserSummary`]: the message record of REST answers and socket events.
//! - [`events`]: the catalogue of server-to-client Socket.IO events (name and payload) and the
//!   acknowledgement shapes.
//! - [`bearer_token`]: the one reader of `Authorization: Bearer` credentials.
//!
//! Field order: a record is written in the order its fields are declared, except where a
//! transport renders it through `serde_json::Value` (REST bodies, socket acks), whose objects
//! keep their keys sorted. Each type says which order its JSON has.

mod acks;
mod bearer;
mod conversation;
pub mod events;
mod message;
mod scheduled;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

pub use bearer::{bearer_token, handshake_token};
pub use conversation::{
    ConversationDetailView, ConversationNotice, ConversationView, MemberRef, MemberView,
    MembershipNotice, ReadBy,
};
pub use message::{ForwardedFromView, MessageView, ReactionView, ReplyToView, UserSummary};
pub use scheduled::ScheduledView;

/// Times as the seed's stack writes them: ISO-8601 UTC with milliseconds.
pub fn iso<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// [`iso`] for optional times (`null` when absent).
pub fn iso_opt<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => iso(time, s),
        None => s.serialize_none(),
    }
}
