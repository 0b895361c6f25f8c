//! A real server on port 0 over a fresh PostgreSQL database, with a real HTTP client.

// Each test binary uses part of the helpers.
#![allow(dead_code, clippy::expect_used)]

use std::collections::HashMap;

use chat_server::{Application, Config};
use chat_store_pg::test_support::TestDatabase;

/// A running server and the database it owns; both go away with it.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    pub(crate) db: TestDatabase,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    /// Builds the server exactly as `main` does, with the given extra variables.
    pub(crate) async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        let db = TestDatabase::create().await;
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), db.url().to_owned()),
            ("JWT_SECRET".into(), "test-secret".into()),
            ("PORT".into(), "0".into()),
            ("CHAT_HOST".into(), "127.0.0.1".into()),
            ("CHAT_WORKERS".into(), "1".into()),
            ("CHAT_DB_POOL_SIZE".into(), "4".into()),
        ]);
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let config = Config::from_source(&move |name: &str| vars.get(name).cloned())
            .expect("valid test configuration");
        let app = Application::build(config).await.expect("server starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            client: reqwest::Client::new(),
            db,
            handle,
        }
    }

    pub(crate) async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request reaches the server")
    }

    /// Stops the server gracefully and waits until it has.
    pub(crate) async fn stop(&self) {
        self.handle.stop(true).await;
    }
}
