//! Groups over REST against a real server and PostgreSQL: the life of a group (create, rename,
//! add, remove, leave, role change, ownership hand-over), group sends with per-member read
//! state and "seen by", groups in the seed's lists, and refused requests that write nothing.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call};

const ALICE: i64 = 1;
const BOB: i64 = 2;
const CAROL: i64 = 3;
const DAVE: i64 = 4;

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.users(&[ALICE, BOB, CAROL, DAVE]).await;
    app
}

async fn ask(
    app: &TestApp,
    user: i64,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = app.as_user(user, method, path);
    call(match body {
        Some(body) => request.json(&body),
        None => request,
    })
    .await
}

/// Creates a group as `owner` and returns its record.
async fn group(app: &TestApp, owner: i64, members: &[i64]) -> Value {
    let body = json!({ "title": "Team", "memberIds": members });
    let (status, created) = ask(app, owner, Method::POST, "/api/chat/groups", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"].clone()
}

fn roles(record: &Value) -> Vec<(i64, String)> {
    record["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_i64().unwrap(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn role_list(list: &[(i64, &str)]) -> Vec<(i64, String)> {
    list.iter()
        .map(|(id, role)| (*id, (*role).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_rename_add_remove_leave_role_change_and_ownership_hand_over() {
    let app = app().await;
    let body = json!({ "title": "  Launch  ", "memberIds": [BOB, CAROL, BOB, ALICE], "clientRequestId": "g-1" });
    let (status, created) = ask(
        &app,
        ALICE,
        Method::POST,
        "/api/chat/groups",
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let record = &created["data"];
    let id = record["id"].as_i64().unwrap();
    assert_eq!(
        (
            &record["kind"],
            &record["title"],
            &record["participant_1_id"],
            &record["participant_2_id"]
        ),
        (
            &json!("group"),
            &json!("Launch"),
            &Value::Null,
            &Value::Null
        )
    );
    assert_eq!(
        roles(record),
        role_list(&[(ALICE, "owner"), (BOB, "member"), (CAROL, "member")])
    );
    let (status, again) = ask(&app, ALICE, Method::POST, "/api/chat/groups", Some(body)).await;
    assert_eq!(
        (status, again["data"]["id"].as_i64()),
        (200, Some(id)),
        "a retry answers with the same group"
    );

    let path = format!("/api/chat/conversations/{id}");
    let (status, renamed) = ask(
        &app,
        ALICE,
        Method::PATCH,
        &path,
        Some(json!({ "title": "Liftoff", "avatarUrl": "https://example.com/a.png" })),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (&renamed["data"]["title"], &renamed["data"]["avatar_url"]),
        (&json!("Liftoff"), &json!("https://example.com/a.png"))
    );

    let members = format!("{path}/members");
    let (status, added) = ask(
        &app,
        ALICE,
        Method::POST,
        &members,
        Some(json!({ "userIds": [DAVE, BOB] })),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    assert_eq!(added["data"]["members"].as_array().unwrap().len(), 4);

    let (status, promoted) = ask(
        &app,
        ALICE,
        Method::PATCH,
        &format!("{members}/{DAVE}"),
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(status, 200, "{promoted}");
    let (status, removed) = ask(
        &app,
        DAVE,
        Method::DELETE,
        &format!("{members}/{BOB}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "an admin removes a member: {removed}");
    assert_eq!(
        roles(&removed["data"]),
        role_list(&[(ALICE, "owner"), (CAROL, "member"), (DAVE, "admin")])
    );

    let (status, left) = ask(
        &app,
        ALICE,
        Method::DELETE,
        &format!("{members}/{ALICE}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "the owner leaves: {left}");
    assert_eq!(
        roles(&left["data"]),
        role_list(&[(CAROL, "member"), (DAVE, "owner")]),
        "the admin takes over"
    );
    let (status, _) = ask(&app, ALICE, Method::GET, &path, None).await;
    assert_eq!(status, 404, "after leaving the group is out of reach");
    let (status, _) = ask(&app, BOB, Method::GET, &path, None).await;
    assert_eq!(status, 404, "a removed member no longer sees it");

    let (status, detail) = ask(&app, CAROL, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{detail}");
    let carol = &detail["data"]["members"][0];
    assert_eq!(
        (&carol["id"], &carol["role"]),
        (&json!(CAROL), &json!("member"))
    );
    assert!(
        carol["joinedAt"].is_string() && carol["lastReadSeq"] == 0,
        "{carol}"
    );
    assert_eq!(detail["data"]["unreadCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_sends_with_per_member_read_state_seen_by_and_unread_counts() {
    let app = app().await;
    let id = group(&app, ALICE, &[BOB, CAROL]).await["id"]
        .as_i64()
        .unwrap();
    let messages = format!("/api/chat/conversations/{id}/messages");
    let mut sent = Vec::new();
    for (from, text) in [(ALICE, "one"), (ALICE, "two"), (BOB, "three")] {
        let (status, message) = ask(
            &app,
            from,
            Method::POST,
            &messages,
            Some(json!({ "content": text })),
        )
        .await;
        assert_eq!(status, 201, "{message}");
        assert_eq!(
            (
                &message["data"]["receiver_id"],
                &message["data"]["receiver"]
            ),
            (&Value::Null, &Value::Null)
        );
        sent.push(message["data"].clone());
    }
    assert_eq!(
        sent.iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let retry = json!({ "content": "four", "clientMessageId": "c-4" });
    let (first, _) = ask(&app, CAROL, Method::POST, &messages, Some(retry.clone())).await;
    let (again, answer) = ask(&app, CAROL, Method::POST, &messages, Some(retry)).await;
    assert_eq!(
        (first, again, answer["data"]["seq"].as_i64()),
        (201, 200, Some(4))
    );

    for (user, unread) in [(ALICE, 2), (BOB, 1), (CAROL, 0), (DAVE, 0)] {
        let (_, count) = ask(&app, user, Method::GET, "/api/chat/unread-count", None).await;
        assert_eq!(count["data"]["unreadCount"], unread, "user {user}");
    }
    let reads = |message: &Value| format!("{messages}/{}/reads", message["id"]);
    let seen = |body: &Value| -> Vec<i64> {
        body["data"]["reads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["userId"].as_i64().unwrap())
            .collect()
    };
    let (status, before) = ask(&app, ALICE, Method::GET, &reads(&sent[0]), None).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(
        seen(&before),
        [BOB, CAROL],
        "their own sends moved their watermarks"
    );
    let (status, _) = ask(
        &app,
        ALICE,
        Method::PUT,
        &format!("/api/chat/conversations/{id}/read"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, after) = ask(&app, BOB, Method::GET, &reads(&sent[2]), None).await;
    assert_eq!(seen(&after), [ALICE, CAROL]);
    assert!(after["data"]["reads"][0]["readAt"].is_string(), "{after}");

    let (_, history) = ask(&app, BOB, Method::GET, &messages, None).await;
    let is_read: Vec<(i64, bool)> = history["data"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["seq"].as_i64().unwrap(), m["is_read"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        is_read,
        [(4, false), (3, true), (2, true), (1, true)],
        "read by every other member"
    );

    let (_, list) = ask(&app, BOB, Method::GET, "/api/chat/conversations", None).await;
    let listed = &list["data"]["conversations"][0];
    assert_eq!(
        (
            &listed["kind"],
            &listed["title"],
            &listed["participant_1_id"],
            &listed["last_message"],
            &listed["member_count"]
        ),
        (
            &json!("group"),
            &json!("Team"),
            &Value::Null,
            &json!("four"),
            &json!(3)
        )
    );
    let (_, unread) = ask(&app, BOB, Method::GET, "/api/chat/unread", None).await;
    assert_eq!(
        unread["data"],
        json!([{ "conversation_id": id, "unread_count": 1 }])
    );
    let (_, found) = ask(
        &app,
        DAVE,
        Method::GET,
        &format!("/api/chat/conversations/{id}/search?q=one"),
        None,
    )
    .await;
    assert_eq!(found["success"], false, "search stays member-scoped");
    let (_, found) = ask(
        &app,
        CAROL,
        Method::GET,
        &format!("/api/chat/conversations/{id}/search?q=t"),
        None,
    )
    .await;
    assert_eq!(
        found["data"]["pagination"]["total"], 2,
        "two and three: {found}"
    );
}

/// A request to refuse: its name, caller, method, path and body, and the expected status,
/// code and field.
type Refusal = (
    &'static str,
    i64,
    Method,
    String,
    Value,
    u16,
    &'static str,
    Option<&'static str>,
);

/// What every member sees of a group, to compare before and after refused requests.
async fn everything(app: &TestApp, id: i64) -> Value {
    let mut seen = serde_json::Map::new();
    for user in [ALICE, BOB, CAROL] {
        let (_, detail) = ask(
            app,
            user,
            Method::GET,
            &format!("/api/chat/conversations/{id}"),
            None,
        )
        .await;
        let (_, list) = ask(app, user, Method::GET, "/api/chat/conversations", None).await;
        seen.insert(format!("user{user}"), json!([detail["data"], list["data"]]));
    }
    Value::Object(seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_say_why_and_write_nothing() {
    let app = TestApp::spawn_with(&[
        ("CHAT_MAX_GROUP_MEMBERS", "4"),
        ("CHAT_MAX_TITLE_CHARS", "10"),
    ])
    .await;
    app.users(&[ALICE, BOB, CAROL, DAVE, 5]).await;
    let id = group(&app, ALICE, &[BOB, CAROL]).await["id"]
        .as_i64()
        .unwrap();
    let before = everything(&app, id).await;
    let path = format!("/api/chat/conversations/{id}");
    let members = format!("{path}/members");
    let cases: Vec<Refusal> = vec![
        (
            "unknown members",
            ALICE,
            Method::POST,
            "/api/chat/groups".into(),
            json!({ "title": "X", "memberIds": [BOB, 777, 555] }),
            404,
            "not_found",
            Some("memberIds"),
        ),
        (
            "title too long",
            ALICE,
            Method::POST,
            "/api/chat/groups".into(),
            json!({ "title": "x".repeat(11), "memberIds": [] }),
            400,
            "invalid_input",
            Some("title"),
        ),
        (
            "blank title",
            ALICE,
            Method::POST,
            "/api/chat/groups".into(),
            json!({ "title": " ", "memberIds": [] }),
            400,
            "invalid_input",
            Some("title"),
        ),
        (
            "too many members",
            ALICE,
            Method::POST,
            "/api/chat/groups".into(),
            json!({ "title": "X", "memberIds": [BOB, CAROL, DAVE, 5] }),
            400,
            "invalid_input",
            Some("memberIds"),
        ),
        (
            "memberIds not a list",
            ALICE,
            Method::POST,
            "/api/chat/groups".into(),
            json!({ "title": "X", "memberIds": "2" }),
            400,
            "invalid_input",
            None,
        ),
        (
            "a member renames",
            BOB,
            Method::PATCH,
            path.clone(),
            json!({ "title": "Mine" }),
            403,
            "forbidden",
            None,
        ),
        (
            "a member adds",
            BOB,
            Method::POST,
            members.clone(),
            json!({ "userIds": [DAVE] }),
            403,
            "forbidden",
            None,
        ),
        (
            "add unknown",
            ALICE,
            Method::POST,
            members.clone(),
            json!({ "userIds": [999] }),
            404,
            "not_found",
            Some("userIds"),
        ),
        (
            "add beyond the limit",
            ALICE,
            Method::POST,
            members.clone(),
            json!({ "userIds": [DAVE, 5] }),
            400,
            "invalid_input",
            Some("userIds"),
        ),
        (
            "remove a non-member",
            ALICE,
            Method::DELETE,
            format!("{members}/{DAVE}"),
            Value::Null,
            404,
            "not_found",
            None,
        ),
        (
            "a member removes",
            BOB,
            Method::DELETE,
            format!("{members}/{CAROL}"),
            Value::Null,
            403,
            "forbidden",
            None,
        ),
        (
            "a member promotes",
            BOB,
            Method::PATCH,
            format!("{members}/{BOB}"),
            json!({ "role": "owner" }),
            403,
            "forbidden",
            None,
        ),
        (
            "an unknown role",
            ALICE,
            Method::PATCH,
            format!("{members}/{BOB}"),
            json!({ "role": "king" }),
            400,
            "invalid_input",
            Some("role"),
        ),
        (
            "the last owner steps down",
            ALICE,
            Method::PATCH,
            format!("{members}/{ALICE}"),
            json!({ "role": "member" }),
            409,
            "conflict",
            None,
        ),
        (
            "an empty message",
            BOB,
            Method::POST,
            format!("{path}/messages"),
            json!({ "content": " " }),
            400,
            "invalid_input",
            Some("content"),
        ),
    ];
    for (name, user, method, path, body, status, code, field) in cases {
        let body = (!body.is_null()).then_some(body);
        let (got, answer) = ask(&app, user, method, &path, body).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{name}: {answer}"
        );
        if let Some(field) = field {
            assert_eq!(answer["errors"][0]["field"], field, "{name}: {answer}");
        }
    }
    let (_, unknown) = ask(
        &app,
        ALICE,
        Method::POST,
        "/api/chat/groups",
        Some(json!({ "title": "X", "memberIds": [777, 555] })),
    )
    .await;
    assert_eq!(
        unknown["message"], "memberIds: no user with id 555, 777",
        "the ids are named"
    );
    assert_eq!(
        everything(&app, id).await,
        before,
        "no refused request changed anything"
    );

    let (status, again) = ask(
        &app,
        ALICE,
        Method::POST,
        &members,
        Some(json!({ "userIds": [BOB, BOB] })),
    )
    .await;
    assert_eq!(
        (status, again["data"]["members"].as_array().map(Vec::len)),
        (200, Some(3)),
        "adding a member twice changes nothing"
    );
    let (status, alone) = ask(
        &app,
        DAVE,
        Method::POST,
        "/api/chat/groups",
        Some(json!({ "title": "Notes", "memberIds": [] })),
    )
    .await;
    assert_eq!(
        (status, roles(&alone["data"])),
        (201, role_list(&[(DAVE, "owner")])),
        "a group of one"
    );
    let direct = app.send(ALICE, BOB, "hi").await["conversation_id"]
        .as_i64()
        .unwrap();
    let (status, answer) = ask(
        &app,
        ALICE,
        Method::PATCH,
        &format!("/api/chat/conversations/{direct}"),
        Some(json!({ "title": "Pair" })),
    )
    .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (403, Some("forbidden")),
        "{answer}"
    );
    let (status, answer) = ask(
        &app,
        ALICE,
        Method::POST,
        &format!("/api/chat/conversations/{direct}/messages"),
        Some(json!({ "content": "by id" })),
    )
    .await;
    assert_eq!(
        (status, answer["data"]["receiver_id"].as_i64()),
        (201, Some(BOB)),
        "a direct send by id keeps its receiver: {answer}"
    );
}

/// Status and exact body text of a request with an optional JSON body.
async fn raw(
    app: &TestApp,
    user: i64,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, String) {
    let request = app.as_user(user, method, path);
    let request = match body {
        Some(body) => request.json(body),
        None => request,
    };
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsider_gets_the_answer_of_a_missing_conversation_from_every_endpoint_of_a_group_or_a_pair()
 {
    let app = app().await;
    let group_id = group(&app, ALICE, &[BOB]).await["id"].as_i64().unwrap();
    let direct = app.send(ALICE, BOB, "just us").await;
    let direct_id = direct["conversation_id"].as_i64().unwrap();
    let posted = json!({ "content": "in the group" });
    let (_, in_group) = ask(
        &app,
        ALICE,
        Method::POST,
        &format!("/api/chat/conversations/{group_id}/messages"),
        Some(posted),
    )
    .await;
    const MISSING: i64 = 999_999;
    for (id, message) in [
        (group_id, in_group["data"]["id"].as_i64().unwrap()),
        (direct_id, direct["id"].as_i64().unwrap()),
    ] {
        let before = everything(&app, id).await;
        let endpoints: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, String::new(), None),
            (
                Method::PATCH,
                String::new(),
                Some(json!({ "title": "Mine now" })),
            ),
            (
                Method::POST,
                "/members".into(),
                Some(json!({ "userIds": [CAROL] })),
            ),
            (Method::DELETE, format!("/members/{BOB}"), None),
            (Method::DELETE, format!("/members/{CAROL}"), None),
            (
                Method::PATCH,
                format!("/members/{BOB}"),
                Some(json!({ "role": "member" })),
            ),
            (
                Method::POST,
                "/messages".into(),
                Some(json!({ "content": "hello?" })),
            ),
            (Method::GET, "/messages".into(), None),
            (Method::GET, format!("/messages/{message}/reads"), None),
            (Method::PUT, "/read".into(), None),
            (Method::GET, "/search?q=us".into(), None),
        ];
        for (method, tail, body) in endpoints {
            let real = format!("/api/chat/conversations/{id}{tail}");
            let missing = format!("/api/chat/conversations/{MISSING}{tail}");
            let (status, answer) = raw(&app, CAROL, method.clone(), &real, body.as_ref()).await;
            let (_, missing_answer) =
                raw(&app, CAROL, method.clone(), &missing, body.as_ref()).await;
            assert_eq!(status, 404, "{method} {real}: {answer}");
            assert_eq!(
                answer, missing_answer,
                "{method} {real} tells the outsider more than a missing id"
            );
            assert!(
                answer.contains("Conversation not found"),
                "{method} {real}: {answer}"
            );
        }
        assert_eq!(
            everything(&app, id).await,
            before,
            "the outsider changed nothing in {id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_lists_group_changes_in_order_from_a_members_joining_to_their_removal() {
    let app = app().await;
    let (_, start) = ask(&app, BOB, Method::GET, "/api/chat/sync", None).await;
    let since = start["data"]["next"].as_str().unwrap().to_owned();
    let id = group(&app, ALICE, &[BOB]).await["id"].as_i64().unwrap();
    let path = format!("/api/chat/conversations/{id}");
    ask(
        &app,
        ALICE,
        Method::POST,
        &format!("{path}/members"),
        Some(json!({ "userIds": [CAROL] })),
    )
    .await;
    ask(
        &app,
        ALICE,
        Method::PATCH,
        &path,
        Some(json!({ "title": "Renamed" })),
    )
    .await;
    ask(
        &app,
        ALICE,
        Method::POST,
        &format!("{path}/messages"),
        Some(json!({ "content": "hi all" })),
    )
    .await;
    ask(
        &app,
        ALICE,
        Method::DELETE,
        &format!("{path}/members/{BOB}"),
        None,
    )
    .await;
    ask(
        &app,
        ALICE,
        Method::POST,
        &format!("{path}/messages"),
        Some(json!({ "content": "without bob" })),
    )
    .await;
    let (status, page) = ask(
        &app,
        CAROL,
        Method::GET,
        &format!("/api/chat/sync?since={since}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let kinds: Vec<&str> = page["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "member_added",
            "conversation_updated",
            "message",
            "member_removed",
            "message"
        ],
        "carol reads the group from where she joined: {page}"
    );
    let (_, bobs) = ask(
        &app,
        BOB,
        Method::GET,
        &format!("/api/chat/sync?since={since}"),
        None,
    )
    .await;
    let kinds: Vec<&str> = bobs["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "conversation_created",
            "member_added",
            "conversation_updated",
            "message",
            "member_removed"
        ],
        "bob reads the group up to his removal, and nothing after it: {bobs}"
    );
}
