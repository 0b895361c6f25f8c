//! Names as people type them: one user per name whatever its Unicode form, no invisible
//! characters, and search that finds a name typed in any case, in any script.

use reqwest::Method;

use crate::support::{TestApp, call};
use crate::{ADMIN_TOKEN, host_provisions, login, register};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_name_composed_decomposed_in_capitals_or_fullwidth_is_one_account() {
    let app = TestApp::spawn().await;
    let (status, body) = register(&app, "Jos\u{e9}", "password123").await;
    assert_eq!(status, 201, "{body}");
    for same in ["Jose\u{301}", "JOSE\u{301}", "jos\u{c9}", "ＪＯＳＥ\u{301}"] {
        let (status, body) = register(&app, same, "password456").await;
        assert_eq!(status, 409, "{same:?}: {body}");
    }
    let session = login(&app, "JOSE\u{301}", "password123").await;
    assert_eq!(session.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_invisible_or_direction_characters_are_refused() {
    let app = TestApp::spawn().await;
    assert_eq!(register(&app, "mallory", "password123").await.0, 201);
    for disguised in [
        "mall\u{200b}ory",
        "mallory\u{200d}",
        "\u{feff}mallory",
        "\u{202e}yrollam",
        "\u{2067}mallory\u{2069}",
    ] {
        let (status, body) = register(&app, disguised, "password123").await;
        assert_eq!(status, 400, "{disguised:?}: {body}");
        assert_eq!(body["errors"][0]["field"], "username", "{body}");
    }
}

/// The usernames `GET /api/users?search=<term>` finds for user 1.
async fn search(app: &TestApp, term: &str) -> Vec<String> {
    let (status, body) = call(
        app.as_user(1, Method::GET, "/api/users")
            .query(&[("search", term)]),
    )
    .await;
    assert_eq!(status, 200, "{term}: {body}");
    let mut names: Vec<String> = body["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["username"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_search_finds_names_typed_in_any_case_of_any_script() {
    let app = TestApp::spawn_with(&[("CHAT_ADMIN_TOKEN", ADMIN_TOKEN)]).await;
    app.users(&[1]).await;
    host_provisions(
        &app,
        &[
            (10, "İlker"),
            (11, "Νικος"),
            (12, "ΝΙΚΟΣ"),
            (13, "Straße"),
            (14, "Алиса"),
        ],
    )
    .await;
    assert_eq!(search(&app, "İl").await, ["İlker"]);
    assert_eq!(search(&app, "İlker").await, ["İlker"], "the exact name");
    assert_eq!(search(&app, "ΝΙΚΟΣ").await, ["ΝΙΚΟΣ", "Νικος"]);
    assert_eq!(search(&app, "νικος").await, ["ΝΙΚΟΣ", "Νικος"]);
    assert_eq!(search(&app, "STRASSE").await, ["Straße"]);
    assert_eq!(search(&app, "аЛи").await, ["Алиса"]);
    assert_eq!(
        search(&app, "ilker").await,
        ["İlker"],
        "typed on a keyboard without İ"
    );
}
