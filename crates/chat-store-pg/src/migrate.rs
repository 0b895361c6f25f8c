//! Embedded migrations, applied at start-up in the configured schema.

use diesel::connection::SimpleConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;

/// The workspace's `migrations/` folder, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Any number appears here once; it serialises start-ups of several nodes on one database.
const MIGRATION_LOCK: i64 = 0x0063_6861_746d_6967; // "chatmig"

/// Creates the schema if needed and applies pending migrations. Several processes may call
/// this at once: an advisory lock lets one migrate while the others wait.
pub(crate) async fn run_migrations(
    conn: AsyncPgConnection,
    schema: &str,
) -> Result<usize, StoreError> {
    let schema = schema.to_owned();
    let migrate = move || -> Result<usize, StoreError> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        let fail = |e: &dyn std::fmt::Display| StoreError::Migrate(e.to_string());
        conn.batch_execute(&format!(
            "SELECT pg_advisory_lock({MIGRATION_LOCK}); \
             CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
        ))
        .map_err(|e| fail(&e))?;
        let applied = conn.run_pending_migrations(MIGRATIONS).map(|v| v.len());
        let unlocked = conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
        let applied = applied.map_err(|e| fail(&*e))?;
        unlocked.map_err(|e| fail(&e))?;
        Ok(applied)
    };
    // The migration harness is synchronous; it blocks a dedicated thread, not the runtime.
    tokio::task::spawn_blocking(migrate)
        .await
        .map_err(|e| StoreError::Migrate(e.to_string()))?
}
