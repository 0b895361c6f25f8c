//! Search across conversations over REST, on PostgreSQL: ranking on a fixed corpus, excerpts
//! as text pieces (markup-looking text included), cursor pages, filters, isolation, bad
//! parameters, and a stemming language whose index start-up builds.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chat_server::{Application, Config};
use chat_store_pg::test_support::TestDatabase;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::Method;
use serde_json::{Value, json};
use support::{SECRET, TestApp, call};

async fn search(app: &TestApp, user: i64, query: &str) -> Value {
    let (status, body) =
        call(app.as_user(user, Method::GET, &format!("/api/chat/search?{query}"))).await;
    assert_eq!(status, 200, "{query}: {body}");
    body["data"].clone()
}

fn texts(page: &Value) -> Vec<&str> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["content"].as_str().unwrap())
        .collect()
}

/// The excerpt's pieces as `(text, match)`.
fn pieces(result: &Value) -> Vec<(&str, bool)> {
    result["excerpt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["text"].as_str().unwrap(), p["match"].as_bool().unwrap()))
        .collect()
}

#[tokio::test]
async fn search_ranks_marks_and_pages_across_the_callers_conversations() {
    let app = TestApp::spawn().await;
    app.users(&[1, 2, 3]).await;
    let once = app.send(1, 2, "deploy").await;
    app.send(2, 1, "deploy the deploy script, then deploy again")
        .await;
    app.send(1, 2, "we deploy after the deploy review").await;
    app.send(2, 1, "nothing to see").await;
    app.send(3, 1, "if x<y and y>z, <b>deploy</b>").await;
    let theirs = app.send(2, 3, "deploy the secret plan").await;

    // Best first: three covers, then two, then one (ts_rank_cd, no length normalisation).
    let page = search(&app, 1, "q=DEPLOY&limit=3").await;
    assert_eq!(
        texts(&page),
        [
            "deploy the deploy script, then deploy again",
            "we deploy after the deploy review",
            "if x<y and y>z, <b>deploy</b>",
        ]
    );
    let ranks: Vec<f64> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rank"].as_f64().unwrap())
        .collect();
    assert!(ranks[0] > ranks[1] && ranks[1] > ranks[2], "{ranks:?}");
    assert_eq!(
        pieces(&page["results"][0]),
        [
            ("deploy", true),
            (" the ", false),
            ("deploy", true),
            (" script, then ", false),
            ("deploy", true),
            (" again", false),
        ]
    );
    // Text that looks like markup is text: nothing of it is dropped or interpreted.
    assert_eq!(
        pieces(&page["results"][2]),
        [
            ("if x<y and y>z, <b>", false),
            ("deploy", true),
            ("</b>", false)
        ]
    );
    assert_eq!(page["results"][1]["message"]["sender_id"], json!(1));
    assert!(page["results"][0]["message"]["conversation_id"].is_i64());

    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let rest = search(&app, 1, &format!("q=deploy&limit=3&cursor={cursor}")).await;
    assert_eq!(texts(&rest), ["deploy"]);
    assert_eq!(rest["results"][0]["message"]["id"], once["id"]);
    assert_eq!(rest["nextCursor"], Value::Null);

    // Only the caller's conversations; and filters narrow them.
    assert!(texts(&search(&app, 1, "q=secret").await).is_empty());
    assert_eq!(
        texts(&search(&app, 3, "q=deploy").await),
        ["deploy the secret plan", "if x<y and y>z, <b>deploy</b>"]
    );
    let by_two = search(&app, 1, "q=deploy&from=2").await;
    assert_eq!(
        texts(&by_two),
        ["deploy the deploy script, then deploy again"]
    );
    let with_two = format!("q=deploy&conversationId={}", once["conversation_id"]);
    assert_eq!(texts(&search(&app, 1, &with_two).await).len(), 3);
    // Times compare to the millisecond, as the API shows them: a message's own `createdAt`
    // is neither before nor after it.
    let ids = |page: &Value| -> Vec<Value> {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["message"]["id"].clone())
            .collect()
    };
    let at = once["createdAt"].as_str().unwrap();
    for query in [
        format!("q=deploy&after={at}"),
        format!("q=deploy&before={}", at.replace('Z', "%2B00:00")),
    ] {
        assert!(
            !ids(&search(&app, 1, &query).await).contains(&once["id"]),
            "{query}"
        );
    }
    let around = "q=deploy&after=2000-01-01T00:00:00Z&before=2999-01-01T00:00:00%2B02:00";
    assert_eq!(texts(&search(&app, 1, around).await).len(), 4);

    // A deleted message is no longer found.
    let path = format!("/api/chat/messages/{}", once["id"]);
    assert_eq!(call(app.as_user(1, Method::DELETE, &path)).await.0, 200);
    assert_eq!(texts(&search(&app, 1, "q=deploy").await).len(), 3);

    let elsewhere = format!(
        "/api/chat/search?q=deploy&conversationId={}",
        theirs["conversation_id"]
    );
    let (status, body) = call(app.as_user(1, Method::GET, &elsewhere)).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn bad_search_parameters_are_named() {
    let app = TestApp::spawn().await;
    app.users(&[1]).await;
    let long = "x".repeat(201);
    for (query, field) in [
        ("", "q"),
        ("q=%20%20", "q"),
        (&format!("q={long}")[..], "q"),
        ("q=-zebra", "q"),
        ("q=-%22a%20b%22%20or", "q"),
        ("q=a&cursor=nonsense", "cursor"),
        ("q=a&cursor=7fc00000.5", "cursor"),
        ("q=a&before=yesterday", "before"),
        ("q=a&after=2026-13-01T00:00:00Z", "after"),
        ("q=a&from=0", "from"),
        ("q=a&conversationId=-1", "conversationId"),
        ("q=a&limit=0", "limit"),
    ] {
        let path = format!("/api/chat/search?{query}");
        let (status, body) = call(app.as_user(1, Method::GET, &path)).await;
        let named = body["errors"][0]["field"].as_str();
        assert_eq!((status, named), (400, Some(field)), "{query}: {body}");
    }
    let (status, _) = call(app.request(Method::GET, "/api/chat/search?q=a")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_stemming_language_gets_its_index_at_start_up() {
    let app = TestApp::spawn_with(&[("CHAT_SEARCH_LANGUAGE", "english")]).await;
    app.users(&[1, 2]).await;
    app.send(1, 2, "The deployments were running late").await;
    app.send(1, 2, "the the the").await;
    let found = search(&app, 2, "q=deployment%20runs").await;
    assert_eq!(texts(&found), ["The deployments were running late"]);
    assert_eq!(
        pieces(&found["results"][0]),
        [
            ("The ", false),
            ("deployments", true),
            (" were ", false),
            ("running", true),
            (" late", false),
        ]
    );
    // Stop words alone match nothing, without an error.
    assert!(texts(&search(&app, 2, "q=the").await).is_empty());

    #[derive(diesel::QueryableByName)]
    struct Index {
        #[diesel(sql_type = diesel::sql_types::Text)]
        indexname: String,
    }
    let mut conn = AsyncPgConnection::establish(app.db.url()).await.unwrap();
    let indexes: Vec<Index> = diesel::sql_query(
        "SELECT indexname::text AS indexname FROM pg_indexes \
          WHERE indexname LIKE 'messages_search_%' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let names: Vec<String> = indexes.into_iter().map(|i| i.indexname).collect();
    assert_eq!(
        names,
        ["messages_search_english_idx", "messages_search_simple_idx"]
    );
}

#[tokio::test]
async fn an_unknown_search_language_stops_start_up_with_its_name() {
    let db = TestDatabase::create().await;
    let vars = [
        ("DATABASE_URL", db.url()),
        ("JWT_SECRET", SECRET),
        ("PORT", "0"),
        ("CHAT_SEARCH_LANGUAGE", "klingon"),
    ];
    let config = Config::from_source(&move |name: &str| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .unwrap();
    let error = Application::build(config)
        .await
        .err()
        .expect("start-up fails");
    let message = format!("{error:#}");
    assert!(
        message.contains("\"klingon\"") && message.contains("pg_ts_config"),
        "{message}"
    );
}
