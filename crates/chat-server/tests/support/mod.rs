//! A real server on port 0 over a fresh PostgreSQL database, with a real HTTP client and
//! helpers that read like the API.

// Each test binary uses part of the helpers; a panic is how a failure is reported.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

pub(crate) mod binary;
pub(crate) mod proxy;
pub(crate) mod refusals;
pub(crate) mod ws;

use std::collections::HashMap;

use chat_server::{Application, Config};
use chat_store_pg::test_support::TestDatabase;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

/// The HS256 secret every test server verifies with.
pub(crate) const SECRET: &str = "test-secret";

/// A running server and the database it owns; both go away with it.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    pub(crate) db: TestDatabase,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    /// Builds the server exactly as `main` does, with the given extra variables. Tests send,
    /// log in and register faster than a person, so those rates are raised unless a test sets
    /// them.
    pub(crate) async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        Self::spawn_on(TestDatabase::create().await, extra).await
    }

    /// Like [`TestApp::spawn_with`], on a database the test prepared (and may reach through
    /// a URL of its own in `extra`, such as a proxy's).
    pub(crate) async fn spawn_on(db: TestDatabase, extra: &[(&str, &str)]) -> TestApp {
        let mut vars: HashMap<String, String> = HashMap::from([
            ("DATABASE_URL".into(), db.url().to_owned()),
            ("JWT_SECRET".into(), SECRET.into()),
            ("PORT".into(), "0".into()),
            ("CHAT_HOST".into(), "127.0.0.1".into()),
            ("CHAT_WORKERS".into(), "1".into()),
            ("CHAT_DB_POOL_SIZE".into(), "4".into()),
            ("CHAT_SEND_RATE_PER_SEC".into(), "10000".into()),
            ("CHAT_SEND_BURST".into(), "10000".into()),
            ("CHAT_LOGIN_RATE_PER_MIN".into(), "100000".into()),
            ("CHAT_LOGIN_BURST".into(), "100000".into()),
            ("CHAT_LOGIN_IP_RATE_PER_MIN".into(), "100000".into()),
            ("CHAT_LOGIN_IP_BURST".into(), "100000".into()),
            ("CHAT_REGISTER_RATE_PER_MIN".into(), "100000".into()),
            ("CHAT_REGISTER_BURST".into(), "100000".into()),
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

    /// A server whose database connections go through a [`proxy::Proxy`] the test can cut,
    /// waiting at most `acquire_ms` for a pooled connection.
    pub(crate) async fn behind_a_cuttable_database(acquire_ms: &str) -> (TestApp, proxy::Proxy) {
        let db = TestDatabase::create().await;
        let proxy = proxy::Proxy::start(proxy::authority(db.url())).await;
        let url = proxy.url_for(db.url());
        let app = Self::spawn_on(
            db,
            &[
                ("DATABASE_URL", &url),
                ("CHAT_DB_ACQUIRE_TIMEOUT_MS", acquire_ms),
            ],
        )
        .await;
        (app, proxy)
    }

    pub(crate) async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// A request to `path` on this server.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// A request as user `id` (a host-issued token naming `user<id>`).
    pub(crate) fn as_user(&self, id: i64, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token(id))
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request reaches the server")
    }

    /// Makes the users exist, as their first authenticated request does.
    pub(crate) async fn users(&self, ids: &[i64]) {
        for id in ids {
            let response = self
                .as_user(*id, Method::GET, "/api/users/me")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "user {id} is provisioned");
        }
    }

    /// Sends `content` from one user to another and returns the stored message.
    pub(crate) async fn send(&self, from: i64, to: i64, content: &str) -> Value {
        let (status, body) = call(
            self.as_user(from, Method::POST, "/api/chat/send")
                .json(&json!({ "receiverId": to, "content": content })),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        body["data"].clone()
    }

    /// Stops the server gracefully and waits until it has.
    pub(crate) async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// A signed token as a host application issues it.
pub(crate) fn token(id: i64) -> String {
    sign(&json!({ "id": id, "username": format!("user{id}"), "exp": in_an_hour() }))
}

/// Claims signed with the test secret (HS256).
pub(crate) fn sign(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).unwrap()
}

pub(crate) fn in_an_hour() -> i64 {
    chrono::Utc::now().timestamp() + 3600
}

/// Sends a request and returns its status and JSON body (`null` when the body is not JSON).
pub(crate) async fn call(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
