//! PostgreSQL repositories for `chat-domain`, on diesel-async and deadpool.
//!
//! [`PgStore`] implements every domain port. SQL lives here and nowhere else; rows stay
//! private and are mapped to domain entities at the boundary, as are errors.

mod accounts;
mod conversations;
mod error;
mod messages;
mod migrate;
#[cfg(test)]
mod plans;
mod pool;
mod prepared;
mod rows;
mod schema;
mod users;

#[cfg(feature = "test-support")]
pub mod test_support;

use chat_domain::{ChatError, Health};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

pub use error::StoreError;
pub use migrate::MIGRATIONS;
pub use pool::{PgConfig, redacted};

use error::{pool_error, query_error};
use pool::PgConn;

/// The PostgreSQL store. Cheap to clone: clones share one pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool<AsyncPgConnection>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PgStore {
    /// Connects, applies pending migrations and returns a ready store; fails fast when the
    /// database cannot be reached, so a misconfigured server never starts.
    pub async fn connect(config: &PgConfig) -> Result<Self, StoreError> {
        let schema = config.checked_schema()?;
        let first =
            tokio::time::timeout(config.connect_timeout, pool::connect(&config.url, "public"))
                .await
                .map_err(|_| {
                    StoreError::Connect(format!("no answer within {:?}", config.connect_timeout))
                })?
                .map_err(|e| StoreError::Connect(e.to_string()))?;
        let applied = migrate::run_migrations(first, schema).await?;
        if applied > 0 {
            tracing::info!(applied, schema, "applied database migrations");
        }
        Ok(PgStore {
            pool: pool::build_pool(config)?,
        })
    }

    pub(crate) async fn conn(&self) -> Result<PgConn, ChatError> {
        self.pool.get().await.map_err(pool_error)
    }
}

impl Health for PgStore {
    async fn ping(&self) -> Result<(), ChatError> {
        let mut conn = self.conn().await?;
        conn.batch_execute("SELECT 1").await.map_err(query_error)
    }
}
