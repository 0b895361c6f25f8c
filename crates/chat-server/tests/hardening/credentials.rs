//! Credentials work that cannot be used against the server: login and registration limits per
//! address and per account, and password hashing that turns a flood away instead of queueing
//! it without bound.

use futures_util::future::join_all;

use crate::support::TestApp;
use crate::{assert_refused, login, register, retry_after};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_one_accounts_password_is_refused_with_429_after_a_few_tries() {
    let app =
        TestApp::spawn_with(&[("CHAT_LOGIN_RATE_PER_MIN", "1"), ("CHAT_LOGIN_BURST", "3")]).await;
    assert_eq!(register(&app, "frank", "the right one").await.0, 201);
    assert_eq!(register(&app, "gina", "her own one").await.0, 201);
    for _ in 0..3 {
        assert_eq!(login(&app, "frank", "a wrong guess").await.status(), 401);
    }
    let limited = login(&app, "FRANK", "the right one").await;
    let wait = retry_after(&limited);
    assert!(
        (50..=60).contains(&wait),
        "about a minute, rounded up: {wait}"
    );
    assert_refused(limited, 429, "rate_limited").await;
    assert_eq!(
        login(&app, "gina", "her own one").await.status(),
        200,
        "other accounts from the same address are untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_trying_many_accounts_is_refused_with_429() {
    let app = TestApp::spawn_with(&[
        ("CHAT_LOGIN_IP_RATE_PER_MIN", "1"),
        ("CHAT_LOGIN_IP_BURST", "3"),
    ])
    .await;
    for name in ["ann", "ben", "cyd"] {
        assert_eq!(login(&app, name, "a wrong guess").await.status(), 401);
    }
    let limited = login(&app, "dee", "a wrong guess").await;
    assert!(retry_after(&limited) >= 1);
    assert_refused(limited, 429, "rate_limited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_in_bulk_from_one_address_is_refused_with_429() {
    let app = TestApp::spawn_with(&[
        ("CHAT_REGISTER_RATE_PER_MIN", "1"),
        ("CHAT_REGISTER_BURST", "2"),
    ])
    .await;
    assert_eq!(register(&app, "bot1", "password123").await.0, 201);
    assert_eq!(register(&app, "bot2", "password123").await.0, 201);
    let (status, body) = register(&app, "bot3", "password123").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_beyond_the_hashing_queue_gets_503_with_retry_after() {
    let app =
        TestApp::spawn_with(&[("CHAT_HASH_CONCURRENCY", "1"), ("CHAT_HASH_QUEUE", "1")]).await;
    assert_eq!(register(&app, "hal", "the right one").await.0, 201);
    let flood = join_all((0..40).map(|_| login(&app, "hal", "a wrong guess"))).await;
    let mut busy = 0;
    for response in flood {
        match response.status().as_u16() {
            401 => {}
            503 => {
                busy += 1;
                assert!(retry_after(&response) >= 1);
                assert_refused(response, 503, "busy").await;
            }
            other => panic!("a login answers 401 or 503, not {other}"),
        }
    }
    assert!(
        busy > 0,
        "one hash at a time and one waiting: the rest are turned away"
    );
    assert_eq!(
        login(&app, "hal", "the right one").await.status(),
        200,
        "the flood has passed"
    );
}
