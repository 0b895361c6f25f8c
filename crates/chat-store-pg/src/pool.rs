//! The connection pool: every connection works in the configured schema, and every wait is
//! bounded so that a dead database turns into errors, never into hung requests.

use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::StoreError;

/// A pooled connection.
pub(crate) type PgConn = Object<AsyncPgConnection>;

/// How to reach PostgreSQL and how much of it to use.
#[derive(Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// The schema that holds the chat tables, so that a database can be shared with the host
    /// application.
    pub schema: String,
    /// The most connections the pool opens.
    pub max_connections: usize,
    /// How long a request waits for a free connection before the store reports itself
    /// unavailable.
    pub acquire_timeout: Duration,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// How many batches of sends may commit at once, each lane on a connection of its own
    /// besides the pool.
    pub write_lanes: usize,
    /// The most sends one transaction commits together.
    pub max_write_batch: usize,
    /// Whether every appended message also gets its row in the webhook outbox, in its own
    /// transaction (on when `CHAT_WEBHOOK_URL` is set).
    pub webhook_outbox: bool,
    /// The PostgreSQL text search configuration that full-text search reads words with
    /// (`simple`: every language, words lowercased, no stemming; or `english`, `german`, ...,
    /// any name in `pg_ts_config`). Start-up makes its index when missing.
    pub search_language: String,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &redacted(&self.url))
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("write_lanes", &self.write_lanes)
            .field("max_write_batch", &self.max_write_batch)
            .field("webhook_outbox", &self.webhook_outbox)
            .field("search_language", &self.search_language)
            .finish()
    }
}

/// The URL with its password masked, for logs and debug output.
pub fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl PgConfig {
    /// Settings for `url` with the default schema and pool size.
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            schema: "chat".to_owned(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            write_lanes: 1,
            max_write_batch: 256,
            webhook_outbox: false,
            search_language: "simple".to_owned(),
        }
    }

    /// The schema name, checked to be a plain identifier because it is spliced into SQL.
    pub(crate) fn checked_schema(&self) -> Result<&str, StoreError> {
        identifier("schema name", &self.schema)
    }

    /// The text search configuration's name, checked as the schema's is (it is spliced into
    /// SQL so that queries match the index expression).
    pub(crate) fn checked_search_language(&self) -> Result<&str, StoreError> {
        identifier("search language", &self.search_language)
    }
}

/// `s` if it is a lowercase SQL identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes), which SQL
/// text may hold without quoting.
fn identifier<'a>(what: &str, s: &'a str) -> Result<&'a str, StoreError> {
    let mut chars = s.chars();
    let head_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if head_ok
        && s.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(s)
    } else {
        Err(StoreError::Config(format!(
            "{what} {s:?} must be a lowercase identifier ([a-z_][a-z0-9_]*, at most 63 bytes)"
        )))
    }
}

/// Opens one connection that works in `schema`.
pub(crate) async fn connect(url: &str, schema: &str) -> Result<AsyncPgConnection, ConnectionError> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    conn.batch_execute(&format!("SET search_path TO {schema}"))
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// Opens one connection that works in `schema`, runs `settings` (SQL, may be empty) on it, and
/// gives up after `timeout`: every connection the store opens after start-up comes from here.
pub(crate) async fn connect_within(
    url: &str,
    schema: &str,
    settings: &str,
    timeout: Duration,
) -> Result<AsyncPgConnection, ConnectionError> {
    let opening = async {
        let mut conn = connect(url, schema).await?;
        if !settings.is_empty() {
            conn.batch_execute(settings)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
    };
    tokio::time::timeout(timeout, opening)
        .await
        .map_err(|_| ConnectionError::BadConnection("connection timed out".into()))?
}

/// Builds the pool; no connection is opened yet.
pub(crate) fn build_pool(config: &PgConfig) -> Result<Pool<AsyncPgConnection>, StoreError> {
    let schema = config.checked_schema()?.to_owned();
    let connect_timeout = config.connect_timeout;
    let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
    // A connection whose socket closed is already dropped as broken on its way back to the
    // pool; a test query on every checkout would add a round trip to every request.
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup = Box::new(move |url| {
        let (url, schema) = (url.to_owned(), schema.clone());
        Box::pin(async move { connect_within(&url, &schema, "", connect_timeout).await })
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        &config.url,
        manager_config,
    );
    Pool::builder(manager)
        .max_size(config.max_connections)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Pool(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_masks_only_the_password() {
        assert_eq!(
            redacted("postgres://u:p@ss@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(redacted("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redacted("postgres://h/db?x=a:b@c"),
            "postgres://h/db?x=a:b@c"
        );
    }

    #[test]
    fn schema_names_must_be_plain_identifiers() {
        let mut config = PgConfig::new("postgres://h/db");
        assert!(config.checked_schema().is_ok());
        for bad in ["", "Chat", "1chat", "chat; drop", "a-b"] {
            config.schema = bad.to_owned();
            assert!(config.checked_schema().is_err(), "{bad}");
        }
    }
}
