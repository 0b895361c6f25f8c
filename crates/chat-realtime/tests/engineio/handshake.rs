//! Opening sessions, and the reference server's error answers to bad requests.

use crate::support::{TestServer, no_heartbeat};

#[tokio::test]
async fn polling_handshake_answers_the_open_packet_and_opens_a_session() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let response = reqwest::get(format!("{}?EIO=4&transport=polling&token=abc", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "text/plain; charset=UTF-8");
    let body = response.text().await.unwrap();
    let open: serde_json::Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    assert_eq!(open["upgrades"], serde_json::json!(["websocket"]));
    assert_eq!(open["pingInterval"], 60_000);
    assert_eq!(open["pingTimeout"], 60_000);
    assert_eq!(open["maxPayload"], 1_000_000);

    let (socket, request) = server.opened().await;
    assert_eq!(open["sid"], socket.id());
    assert_eq!(request.query_param("token"), Some("abc"));
    assert!(request.peer.is_some());
    assert_eq!(server.engine.session_count(), 1);
}

#[tokio::test]
async fn websocket_handshake_sends_the_open_packet_as_the_first_frame() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let mut ws = server.websocket("EIO=4&transport=websocket").await;
    let open = ws.open_packet().await;
    assert_eq!(open["upgrades"], serde_json::json!([]));
    let (socket, _) = server.opened().await;
    assert_eq!(open["sid"], socket.id());
    ws.send_text("4hello").await;
    assert_eq!(ws.recv_text().await, "4hello");
}

#[tokio::test]
async fn bad_requests_get_the_reference_servers_error_answers() {
    let server = TestServer::spawn(no_heartbeat()).await;
    let cases = [
        ("EIO=4", r#"{"code":0,"message":"Transport unknown"}"#),
        (
            "EIO=4&transport=abc",
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            "EIO=4&transport=polling&sid=nope",
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ),
        (
            "EIO=4&transport=websocket",
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            "transport=polling",
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            "EIO=3&transport=polling",
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
    ];
    for (query, answer) in cases {
        assert_eq!(
            server.get(query).await,
            (400, answer.to_owned()),
            "GET ?{query}"
        );
    }
    let post = server.post("EIO=4&transport=polling", "4hi").await;
    assert_eq!(
        post,
        (
            400,
            r#"{"code":2,"message":"Bad handshake method"}"#.to_owned()
        )
    );
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn both_paths_with_and_without_trailing_slash_are_served() {
    let server = TestServer::spawn(no_heartbeat()).await;
    let without_slash = server.base.trim_end_matches('/');
    let response = reqwest::get(format!("{without_slash}?EIO=4&transport=polling"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().starts_with("0{"));
}
