//! PostgreSQL repositories for `chat-domain`, on diesel-async and deadpool.
//!
//! [`PgStore`] implements every domain port. SQL lives here and nowhere else; rows stay
//! private and are mapped to domain entities at the boundary, as are errors.

mod accounts;
mod append_batch;
mod conversation_page;
mod conversations;
mod edits;
mod error;
mod first_contact;
mod group_commit;
mod group_members;
mod groups;
pub mod import;
mod lane;
mod mentions;
mod messages;
mod migrate;
mod pins;
#[cfg(test)]
mod plans;
mod pool;
mod prepared;
mod reactions;
mod recovery;
mod rows;
mod scheduled;
mod schema;
mod scope;
mod search;
#[cfg(test)]
mod search_plans;
mod stream;
mod stream_decode;
mod threads;
mod username_keys;
mod users;
mod webhooks;

#[cfg(feature = "test-support")]
pub mod test_support;

use std::sync::Arc;

use chat_domain::{ChatError, Health};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

pub use error::StoreError;
pub use group_commit::BATCH_SIZE_METRIC;
pub use migrate::MIGRATIONS;
pub use pool::{PgConfig, redacted};
pub use webhooks::{DeadWebhook, WebhookClaim, WebhookCounts, WebhookOutcome, WebhookSubject};

use error::{pool_error, query_error};
use first_contact::FirstContact;
use group_commit::GroupCommit;
use pool::PgConn;

/// The PostgreSQL store. Cheap to clone: clones share one pool and one set of writers (the
/// message appends' lanes and the lane that opens direct conversations).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool<AsyncPgConnection>,
    writes: Arc<GroupCommit>,
    first_contact: Arc<FirstContact>,
    /// The text search configuration of full-text search ([`PgConfig::search_language`]).
    search_language: Arc<str>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool.status())
            .finish()
    }
}

/// The connection pool at one moment, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// The most connections the pool opens (`CHAT_DB_POOL_SIZE`).
    pub max: usize,
    /// Connections open now, in use or idle.
    pub open: usize,
    /// Open connections no request holds.
    pub idle: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

impl PgStore {
    /// The pool now (the append lanes' own connections are not in it).
    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            max: status.max_size,
            open: status.size,
            idle: status.available,
            waiting: status.waiting,
        }
    }

    /// Connects, applies pending migrations and returns a ready store; fails fast when the
    /// database cannot be reached, so a misconfigured server never starts. The writers that
    /// commit appends run on the current Tokio runtime, so use the store within it.
    pub async fn connect(config: &PgConfig) -> Result<Self, StoreError> {
        let schema = config.checked_schema()?;
        let search_language = config.checked_search_language()?;
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
        let pool = pool::build_pool(config)?;
        let mut conn = pool
            .get()
            .await
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        let keyed = username_keys::fill_missing(&mut conn).await?;
        search::ensure_index(&mut conn, search_language).await?;
        drop(conn);
        if keyed > 0 {
            tracing::info!(keyed, "filled in the case keys of usernames");
        }
        let writes = GroupCommit::start(config);
        let first_contact = FirstContact::start(config);
        Ok(PgStore {
            pool,
            writes: Arc::new(writes),
            first_contact: Arc::new(first_contact),
            search_language: search_language.into(),
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
