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
        // The connection broke (diesel-async reports a failed send or a dead connection task
        // as UnableToSendCommand), or the server is going away or not up yet: retrying on
        // another connection, later, may succeed.
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        )
        | DieselError::BrokenTransactionManager => ChatError::Unavailable(Box::new(error)),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
            if server_going_away(info.message()) =>
        {
            ChatError::Unavailable(Box::new(error))
        }
        other => ChatError::Internal(Box::new(other)),
    }
}

/// Messages of PostgreSQL's connection-exception and operator-intervention errors (SQLSTATE
/// classes 08 and 57P0x), which diesel reports without their code.
fn server_going_away(message: &str) -> bool {
    [
        "connection closed",
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
    ]
    .iter()
    .any(|known| message.contains(known))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn a_broken_or_departing_database_is_unavailable_and_the_rest_internal() {
        for unavailable in [
            database_error(
                DatabaseErrorKind::UnableToSendCommand,
                "error communicating with the server",
            ),
            database_error(DatabaseErrorKind::ClosedConnection, "closed"),
            database_error(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command",
            ),
            database_error(
                DatabaseErrorKind::Unknown,
                "the database system is shutting down",
            ),
        ] {
            assert_eq!(query_error(unavailable).code(), "unavailable");
        }
        let conflict = database_error(DatabaseErrorKind::UniqueViolation, "duplicate key");
        assert_eq!(query_error(conflict).code(), "conflict");
        let bug = database_error(
            DatabaseErrorKind::Unknown,
            "syntax error at or near \"SELEC\"",
        );
        assert_eq!(query_error(bug).code(), "internal");
    }
}
