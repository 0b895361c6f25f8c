//! A fresh database per test, cloned from a migrated template, so that tests run in parallel
//! without seeing each other's rows.
//!
//! The cluster is named by `CHAT_TEST_DATABASE_URL` (an admin URL, usually to the `postgres`
//! database of the throwaway cluster that `cargo xtask test` starts). The template is built
//! once per set of migrations, under an advisory lock so that parallel test processes agree.

// Test support: a panic is how a broken test environment is reported.
#![allow(clippy::expect_used, clippy::panic)]

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::migration::MigrationSource;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::{MIGRATIONS, PgConfig, PgStore, migrate};

/// The variable that names the test cluster's admin URL.
pub const ADMIN_URL_VAR: &str = "CHAT_TEST_DATABASE_URL";

const TEMPLATE_LOCK: i64 = 0x0063_6861_7474_706c; // "chattpl"

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database that exists for one test and is dropped with this value.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Clones the migrated template into a new database.
    pub async fn create() -> Self {
        Self::make(true).await
    }

    /// A new database without the server's schema, for tests that play another
    /// application's database (the Node service's, say).
    pub async fn empty() -> Self {
        Self::make(false).await
    }

    async fn make(migrated: bool) -> Self {
        let admin_url = std::env::var(ADMIN_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{ADMIN_URL_VAR} is not set. Run the tests with `cargo xtask test`, which starts \
                 a throwaway PostgreSQL cluster, or point {ADMIN_URL_VAR} at an admin URL \
                 (e.g. postgres://postgres@127.0.0.1:5432/postgres) of a disposable cluster."
            )
        });
        let mut admin = AsyncPgConnection::establish(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {ADMIN_URL_VAR}: {e}"));
        let template = if migrated {
            ensure_template(&mut admin, &admin_url).await
        } else {
            "template0".to_owned()
        };
        let name = format!(
            "chat_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            chrono::Utc::now().timestamp_subsec_nanos()
        );
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("create the test database from the template");
        let url = with_database(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
        }
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Store settings for this database, with a pool big enough for concurrency tests.
    pub fn config(&self) -> PgConfig {
        PgConfig {
            max_connections: 8,
            ..PgConfig::new(&self.url)
        }
    }

    /// A store on this database.
    pub async fn store(&self) -> PgStore {
        PgStore::connect(&self.config())
            .await
            .expect("connect the store to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop cannot await, and the test's runtime may be shutting down: use a thread with a
        // runtime of its own. A database left behind goes with the throwaway cluster.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url).await.ok()?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        });
        let _ = dropped.join();
    }
}

/// The template's name changes with the set of migrations, so a changed migration never
/// reuses a stale template on a long-lived cluster.
fn template_name() -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let migrations = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .expect("list the embedded migrations");
    for migration in migrations {
        migration.name().to_string().hash(&mut hasher);
    }
    format!("chat_template_{:016x}", hasher.finish())
}

async fn ensure_template(admin: &mut AsyncPgConnection, admin_url: &str) -> String {
    let template = template_name();
    admin
        .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .await
        .expect("lock the template");
    let exists = database_exists(admin, &template).await;
    if !exists {
        // Build under another name and rename when complete, so that a crash half-way never
        // leaves a half-migrated template behind.
        let building = format!("{template}_building");
        for statement in [
            format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            format!("CREATE DATABASE {building}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("create the template database");
        }
        let url = with_database(admin_url, &building);
        let conn = AsyncPgConnection::establish(&url)
            .await
            .expect("connect to the template database");
        migrate::run_migrations(conn, &PgConfig::new(&url).schema)
            .await
            .expect("migrate the template database");
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .await
            .expect("publish the template database");
    }
    admin
        .batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .await
        .expect("unlock the template");
    template
}

async fn database_exists(admin: &mut AsyncPgConnection, name: &str) -> bool {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let found: Found =
        diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .get_result(admin)
            .await
            .expect("look up the template");
    found.n > 0
}

/// Replaces the database name in a `postgres://` URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:5", "t1"), "postgres://h:5/t1");
    }
}
