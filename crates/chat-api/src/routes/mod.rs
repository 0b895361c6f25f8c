//! Route groups, one file each; [`crate::configure`] mounts them.

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod chat;
pub(crate) mod users;
