//! Token verification as WIRE.md pins it: one algorithm, `exp` enforced, the user id in `id`
//! or `sub`, and users provisioned on their first valid token.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use support::{SECRET, TestApp, call, in_an_hour, sign};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sign_with(algorithm: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).unwrap()
}

/// A token whose header says `alg: none`, with no signature.
fn unsigned(claims: &Value) -> String {
    use std::fmt::Write;
    let b64 = |bytes: &[u8]| {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap();
                out.write_char(char::from(ALPHABET[index])).unwrap();
            }
        }
        out
    };
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{header}.{}.", b64(claims.to_string().as_bytes()))
}

async fn status_with(app: &TestApp, token: &str) -> (u16, Value) {
    call(
        app.request(Method::GET, "/api/chat/unread-count")
            .bearer_auth(token),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_is_a_401_in_the_envelope() {
    let app = TestApp::spawn().await;
    let valid = json!({ "id": 1, "exp": in_an_hour() });
    let expired = json!({ "id": 1, "exp": chrono::Utc::now().timestamp() - 3600 });
    let rs256 = EncodingKey::from_rsa_pem(fixture("rs256-private.pem").as_bytes()).unwrap();
    let cases = [
        ("garbage", "not.a.token".to_owned()),
        ("alg none", unsigned(&valid)),
        (
            "wrong secret",
            sign_with(
                Algorithm::HS256,
                &EncodingKey::from_secret(b"other"),
                &valid,
            ),
        ),
        (
            "HS384 with the right secret",
            sign_with(
                Algorithm::HS384,
                &EncodingKey::from_secret(SECRET.as_bytes()),
                &valid,
            ),
        ),
        (
            "RS256 when HS256 is pinned",
            sign_with(Algorithm::RS256, &rs256, &valid),
        ),
        ("expired", sign(&expired)),
        ("no exp", sign(&json!({ "id": 1 }))),
        (
            "no user id",
            sign(&json!({ "name": "x", "exp": in_an_hour() })),
        ),
        (
            "non-numeric id",
            sign(&json!({ "id": "abc", "exp": in_an_hour() })),
        ),
    ];
    for (case, token) in cases {
        let (status, body) = status_with(&app, &token).await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(body["success"], false, "{case}");
        assert!(body["message"].is_string(), "{case}");
    }
    let (status, body) = call(app.request(Method::GET, "/api/chat/unread-count")).await;
    assert_eq!(
        (status, &body["success"]),
        (401, &json!(false)),
        "no token: {body}"
    );
    let (status, _) = call(
        app.request(Method::GET, "/api/chat/unread-count")
            .header("Authorization", "Basic abc"),
    )
    .await;
    assert_eq!(status, 401, "not a bearer token");
    assert_eq!(
        status_with(&app, &sign(&valid)).await.0,
        200,
        "the valid twin passes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_inside_the_leeway_still_works() {
    let app = TestApp::spawn_with(&[("JWT_LEEWAY_SECS", "60")]).await;
    let just_expired = json!({ "id": 1, "exp": chrono::Utc::now().timestamp() - 10 });
    assert_eq!(status_with(&app, &sign(&just_expired)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_users_first_valid_token_provisions_them() {
    let app = TestApp::spawn().await;
    let carol = sign(&json!({ "sub": "30", "username": "carol", "exp": in_an_hour() }));
    let (status, me) = call(
        app.request(Method::GET, "/api/users/me")
            .bearer_auth(&carol),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["data"]["id"].as_i64(), me["data"]["username"].as_str()),
        (Some(30), Some("carol"))
    );

    let dave = sign(&json!({ "id": 40, "exp": in_an_hour() }));
    let (status, sent) = call(
        app.request(Method::POST, "/api/chat/send")
            .bearer_auth(&dave)
            .json(&json!({ "receiverId": 30, "content": "hi carol" })),
    )
    .await;
    assert_eq!(status, 201, "a first request may send at once: {sent}");
    assert_eq!(
        sent["data"]["sender"],
        json!({ "id": 40, "username": "user40" })
    );
    let (_, unread) = call(
        app.request(Method::GET, "/api/chat/unread-count")
            .bearer_auth(&carol),
    )
    .await;
    assert_eq!(unread["data"]["unreadCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_claim_is_configurable() {
    let app = TestApp::spawn_with(&[("JWT_USER_CLAIM", "userId")]).await;
    let token = sign(&json!({ "userId": 55, "id": 1, "exp": in_an_hour() }));
    let (status, me) = call(app.request(Method::GET, "/api/users/me").bearer_auth(token)).await;
    assert_eq!((status, me["data"]["id"].as_i64()), (200, Some(55)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_without_exp_pass_only_when_configured() {
    let app = TestApp::spawn_with(&[("JWT_REQUIRE_EXP", "false")]).await;
    assert_eq!(status_with(&app, &sign(&json!({ "id": 1 }))).await.0, 200);
    let expired = json!({ "id": 1, "exp": chrono::Utc::now().timestamp() - 3600 });
    assert_eq!(
        status_with(&app, &sign(&expired)).await.0,
        200,
        "exp is not checked then"
    );
}

async fn public_key_app(algorithm: &str, public: &str) -> TestApp {
    let key = fixture(public);
    TestApp::spawn_with(&[
        ("JWT_ALGORITHM", algorithm),
        ("JWT_PUBLIC_KEY", key.as_str()),
        ("CHAT_BUILTIN_ACCOUNTS", "false"),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_tokens_verify_with_a_public_key_and_nothing_else_passes() {
    let app = public_key_app("RS256", "rs256-public.pem").await;
    let claims = json!({ "id": 7, "exp": in_an_hour() });
    let private = EncodingKey::from_rsa_pem(fixture("rs256-private.pem").as_bytes()).unwrap();
    assert_eq!(
        status_with(&app, &sign_with(Algorithm::RS256, &private, &claims))
            .await
            .0,
        200
    );
    assert_eq!(
        status_with(&app, &sign(&claims)).await.0,
        401,
        "an HS256 token is refused"
    );
    assert_eq!(
        status_with(&app, &unsigned(&claims)).await.0,
        401,
        "alg none is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn es256_tokens_verify_with_a_public_key() {
    let app = public_key_app("ES256", "es256-public.pem").await;
    let claims = json!({ "id": 8, "exp": in_an_hour() });
    let private = EncodingKey::from_ec_pem(fixture("es256-private.pem").as_bytes()).unwrap();
    assert_eq!(
        status_with(&app, &sign_with(Algorithm::ES256, &private, &claims))
            .await
            .0,
        200
    );
    let rs256 = EncodingKey::from_rsa_pem(fixture("rs256-private.pem").as_bytes()).unwrap();
    assert_eq!(
        status_with(&app, &sign_with(Algorithm::RS256, &rs256, &claims))
            .await
            .0,
        401
    );
}
