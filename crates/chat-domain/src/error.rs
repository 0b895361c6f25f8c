//! The one error type of the domain, in the domain's words; transports map it to their own
//! status codes.

use std::fmt;

/// A cause kept for the log, never shown to a client.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of record was not found, so that the message can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A user id that no store knows.
    User,
    /// A conversation that is missing or that the caller is not a member of.
    Conversation,
    /// A message that is missing, deleted, or outside the caller's reach.
    Message,
    /// A scheduled message that is not the caller's, or was sent or cancelled.
    ScheduledMessage,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Entity::User => "User",
            Entity::Conversation => "Conversation",
            Entity::Message => "Message",
            Entity::ScheduledMessage => "Scheduled message",
        })
    }
}

/// Why a chat operation did not happen. Nothing is written when an operation fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// The record does not exist or the caller may not see it; the two are indistinguishable
    /// on purpose, so that existence does not leak.
    #[error("{entity} not found")]
    NotFound {
        /// Which kind of record.
        entity: Entity,
    },
    /// Input that breaks a rule; `field` names it in the client's words.
    #[error("{field}: {reason}")]
    Invalid {
        /// The offending field, as the client named it (e.g. `content`).
        field: &'static str,
        /// What is wrong with it, for a person to read.
        reason: String,
    },
    /// Ids in a list that name no user (a group's new members, say); nothing was written.
    #[error("{field}: no user with id {}", join_ids(ids))]
    UnknownUsers {
        /// The list, as the client named it (e.g. `memberIds`).
        field: &'static str,
        /// The ids that name nobody, ascending.
        ids: Vec<crate::UserId>,
    },
    /// The caller is a member but their role does not allow this (renaming a group as a
    /// plain member, say); the reason says which role would.
    #[error("{0}")]
    Forbidden(String),
    /// The write collides with an existing record (e.g. a reused client message id).
    #[error("{0}")]
    Conflict(String),
    /// The caller could not be identified (unknown user or wrong password, told apart by
    /// nobody).
    #[error("invalid credentials")]
    Unauthenticated,
    /// The caller sends faster than the configured rate; retrying after the delay succeeds.
    #[error("too many messages; retry in {} ms", retry_after.as_millis())]
    RateLimited {
        /// How long until the next send is allowed.
        retry_after: std::time::Duration,
    },
    /// The server has more of this kind of work queued than it takes on (password hashing,
    /// say); retrying after the delay may succeed.
    #[error("the server is busy; retry in {} ms", retry_after.as_millis())]
    Busy {
        /// A fair time to wait before retrying.
        retry_after: std::time::Duration,
    },
    /// The store cannot be reached now; retrying later may succeed.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
    /// A fault that is nobody's input; the cause goes to the log only.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl ChatError {
    /// A stable snake_case code that clients can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::NotFound { .. } | ChatError::UnknownUsers { .. } => "not_found",
            ChatError::Forbidden(_) => "forbidden",
            ChatError::Invalid { .. } => "invalid_input",
            ChatError::Conflict(_) => "conflict",
            ChatError::Unauthenticated => "unauthenticated",
            ChatError::RateLimited { .. } => "rate_limited",
            ChatError::Busy { .. } => "busy",
            ChatError::Unavailable(_) => "unavailable",
            ChatError::Internal(_) => "internal",
        }
    }

    /// What a client may read about this error: the domain's words, never the internal cause
    /// of an unavailable store or a fault. Every transport shows the same text.
    pub fn client_message(&self) -> String {
        match self {
            ChatError::Invalid { field, reason } => format!("{field} {reason}"),
            ChatError::Unavailable(_) => {
                "The service is temporarily unavailable; please retry".to_owned()
            }
            ChatError::Busy { .. } => "The server is busy; please retry shortly".to_owned(),
            ChatError::Internal(_) => "Internal server error".to_owned(),
            other => other.to_string(),
        }
    }

    /// Shorthand for the not-found of one kind of record.
    pub fn not_found(entity: Entity) -> Self {
        ChatError::NotFound { entity }
    }

    /// Shorthand for a refusal by role.
    pub fn forbidden(reason: impl Into<String>) -> Self {
        ChatError::Forbidden(reason.into())
    }

    /// Shorthand for an input error on one field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ChatError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// The ids of an error message: the first ten, and how many more there are.
fn join_ids(ids: &[crate::UserId]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = ids
        .iter()
        .take(SHOWN)
        .map(|id| id.get().to_string())
        .collect();
    match ids.len().saturating_sub(SHOWN) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_distinct_code() {
        let all = [
            ChatError::not_found(Entity::User),
            ChatError::invalid("content", "empty"),
            ChatError::Conflict("taken".into()),
            ChatError::forbidden("owners only"),
            ChatError::Unauthenticated,
            ChatError::RateLimited {
                retry_after: std::time::Duration::from_millis(50),
            },
            ChatError::Busy {
                retry_after: std::time::Duration::from_secs(1),
            },
            ChatError::Unavailable("down".into()),
            ChatError::Internal("bug".into()),
        ];
        let mut codes: Vec<&str> = all.iter().map(ChatError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }

    #[test]
    fn unknown_users_are_not_found_and_named() {
        let error = ChatError::UnknownUsers {
            field: "memberIds",
            ids: vec![crate::UserId(4), crate::UserId(9)],
        };
        assert_eq!(error.code(), "not_found");
        assert_eq!(error.client_message(), "memberIds: no user with id 4, 9");
    }
}
