//! Where database failures become domain errors: the one place that decides what a client may
//! learn (not found, conflict, unavailable) and what only the log sees.

use chat_domain::ChatError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;

/// Why the store could not be set up; start-up reports it and exits.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The configuration cannot work (a bad schema name, say).
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// The pool could not be built.
    #[error("could not build the connection pool: {0}")]
    Pool(String),
    /// The database refused or did not answer the first connection.
    #[error("could not connect to the database: {0}")]
    Connect(String),
    /// A migration failed; nothing after it was applied.
    #[error("could not apply migrations: {0}")]
    Migrate(String),
}

/// Maps a failed query to the domain's error, keeping the cause for the log.
pub(crate) fn query_error(error: DieselError) -> ChatError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            ChatError::Conflict(conflict_message(info.constraint_name()))
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        | DieselError::BrokenTransactionManager => ChatError::Unavailable(Box::new(error)),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
            if info.message().contains("connection closed") =>
        {
            ChatError::Unavailable(Box::new(error))
        }
        other => ChatError::Internal(Box::new(other)),
    }
}

/// A pool that cannot hand out a connection (timed out, database down) means unavailable.
pub(crate) fn pool_error(error: PoolError) -> ChatError {
    ChatError::Unavailable(Box::new(error))
}

fn conflict_message(constraint: Option<&str>) -> String {
    match constraint {
        Some("messages_sender_client_id_key") => {
            "clientMessageId was already used for another message".to_owned()
        }
        Some("accounts_username_key") => "the username is taken".to_owned(),
        _ => "the record already exists".to_owned(),
    }
}
