//! Built-in accounts, user profiles and search, and the host's admin upsert.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

const ADMIN_TOKEN: &str = "admin-token-for-tests";

async fn register(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let body = json!({ "username": username, "password": password });
    call(app.request(Method::POST, "/api/auth/register").json(&body)).await
}

async fn login(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let body = json!({ "username": username, "password": password });
    call(app.request(Method::POST, "/api/auth/login").json(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_users_log_in_and_chat_with_their_token() {
    let app = TestApp::spawn().await;
    let (status, alice) = register(&app, "alice", "correct horse").await;
    assert_eq!(status, 201, "{alice}");
    assert_eq!(alice["message"], "User registered successfully");
    assert_eq!(alice["data"]["username"], "alice");
    assert!(
        alice["data"].get("password").is_none() && alice["data"].get("password_hash").is_none()
    );
    let (_, bob) = register(&app, "bob", "battery staple").await;

    let (status, session) = login(&app, "ALICE", "correct horse").await;
    assert_eq!(status, 200, "usernames ignore case at login: {session}");
    assert_eq!(session["data"]["user"]["id"], alice["data"]["id"]);
    let token = session["data"]["token"].as_str().unwrap().to_owned();
    let (status, sent) = call(
        app.request(Method::POST, "/api/chat/send")
            .bearer_auth(&token)
            .json(&json!({ "receiverId": bob["data"]["id"], "content": "hi bob" })),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["data"]["sender"]["username"], "alice");
    let (_, me) = call(
        app.request(Method::GET, "/api/users/me")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(me["data"]["username"], "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_username_is_409_ignoring_case() {
    let app = TestApp::spawn().await;
    assert_eq!(register(&app, "erin", "password1").await.0, 201);
    let (status, body) = register(&app, "Erin", "password2").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        (body["success"].as_bool(), body["code"].as_str()),
        (Some(false), Some("conflict"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401() {
    let app = TestApp::spawn().await;
    register(&app, "frank", "the right one").await;
    let (wrong_status, wrong) = login(&app, "frank", "the wrong one").await;
    let (unknown_status, unknown) = login(&app, "nobody", "the wrong one").await;
    assert_eq!((wrong_status, unknown_status), (401, 401));
    assert_eq!(wrong, unknown);
    let (status, _) = login(&app, "frank", "").await;
    assert_eq!(status, 401, "malformed credentials are the same 401");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_validates_username_and_password() {
    let app = TestApp::spawn().await;
    let (status, body) = register(&app, "gina", "short").await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("password"))
    );
    let (status, body) = register(&app, "  ", "long enough").await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("username"))
    );
    let (status, body) = call(
        app.request(Method::POST, "/api/auth/register")
            .json(&json!({ "password": "long enough" })),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("username"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_search_finds_people_by_prefix_and_pages() {
    let app = TestApp::spawn().await;
    for name in ["harry", "Hannah", "hal", "ivan"] {
        register(&app, name, "password123").await;
    }
    app.users(&[1000]).await;
    let (status, body) = call(app.as_user(1000, Method::GET, "/api/users?search=HA&limit=2")).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hal", "Hannah"]);
    assert_eq!(
        body["data"]["pagination"],
        json!({ "total": 3, "page": 1, "limit": 2, "totalPages": 2 })
    );
    let (_, body) =
        call(app.as_user(1000, Method::GET, "/api/users?search=ha&page=2&limit=2")).await;
    assert_eq!(body["data"]["users"][0]["username"], "harry");
    let (_, one) = call(app.as_user(
        1000,
        Method::GET,
        &format!("/api/users/{}", body["data"]["users"][0]["id"]),
    ))
    .await;
    assert_eq!(one["data"]["username"], "harry");
    let (status, _) = call(app.as_user(1000, Method::GET, "/api/users/999999")).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_built_in_accounts_only_contacts_are_findable() {
    let app = TestApp::spawn_with(&[("CHAT_BUILTIN_ACCOUNTS", "false")]).await;
    let (status, _) = register(&app, "kim", "password123").await;
    assert_eq!(status, 404, "no registration route");
    app.users(&[1, 2, 3]).await;
    app.send(1, 2, "hello").await;
    let (_, body) = call(app.as_user(1, Method::GET, "/api/users")).await;
    let ids: Vec<i64> = body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2]);
    assert_eq!(
        call(app.as_user(1, Method::GET, "/api/users/2")).await.0,
        200
    );
    assert_eq!(
        call(app.as_user(1, Method::GET, "/api/users/3")).await.0,
        404,
        "a stranger"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_upserts_users_who_then_receive_messages_before_connecting() {
    let app = TestApp::spawn_with(&[("CHAT_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    let batch = json!({ "users": [
        { "id": 501, "username": "ola", "displayName": "Ola N." },
        { "id": 502, "username": "per", "avatarUrl": "https://cdn.example.com/p.png" },
    ] });
    let upsert = || app.request(Method::PUT, "/api/admin/users").json(&batch);
    assert_eq!(call(upsert()).await.0, 401, "no token");
    assert_eq!(
        call(upsert().bearer_auth("wrong-token-wrong-token"))
            .await
            .0,
        401
    );
    assert_eq!(
        call(upsert().bearer_auth(support::token(1))).await.0,
        401,
        "a user token is no admin token"
    );
    let (status, body) = call(upsert().bearer_auth(ADMIN_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["users"][0]["displayName"], "Ola N.");

    app.users(&[1]).await;
    let sent = app.send(1, 502, "welcome, per").await;
    assert_eq!(sent["receiver"], json!({ "id": 502, "username": "per" }));
    let (status, body) = call(
        app.request(Method::PUT, "/api/admin/users")
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "users": [{ "id": 0, "username": "zero" }] })),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (400, Some("users[0].id"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_is_off_without_a_token() {
    let app = TestApp::spawn().await;
    let (status, _) = call(
        app.request(Method::PUT, "/api/admin/users")
            .bearer_auth("anything-at-all-here")
            .json(&json!({ "users": [{ "id": 9, "username": "x" }] })),
    )
    .await;
    assert_eq!(status, 401);
}
