//! Handlers by route group, one file each; [`table`] lists every route and
//! [`crate::configure`] mounts exactly that list.

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod chat;
pub(crate) mod dead_letters;
pub(crate) mod edits;
pub(crate) mod forwarding;
pub(crate) mod groups;
pub(crate) mod members;
pub(crate) mod mentions;
pub(crate) mod pins;
pub(crate) mod reactions;
pub(crate) mod scheduled;
pub(crate) mod search;
pub(crate) mod sync;
pub(crate) mod table;
pub(crate) mod threads;
pub(crate) mod users;
