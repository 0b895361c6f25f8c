//! What a socket cannot hold on to: more sockets than its user may have, a session past its
//! token's expiry, a connection refused as "Authentication error" when only the store is down,
//! a tokenless session past the connect deadline, sessions past its address's cap.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use chat_store_pg::test_support::TestDatabase;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use support::binary::start_binary_logged;
use support::{TestApp, sign, token};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The longest any one expected frame may take; only a bound on a failure.
const PATIENCE: Duration = Duration::from_secs(10);

/// What the server sent next.
#[derive(Debug, PartialEq)]
enum Next {
    Text(String),
    /// The close frame, with its code.
    Closed(Option<u16>),
}

/// A WebSocket-only Engine.IO session, past its `open` packet.
async fn session(app: &TestApp) -> Ws {
    session_at(&app.address).await
}

/// A WebSocket-only Engine.IO session with the server at `address`, past its `open` packet.
async fn session_at(address: &str) -> Ws {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        address.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let Next::Text(open) = next(&mut ws).await else {
        panic!("no open packet")
    };
    assert!(open.starts_with('0'), "{open}");
    ws
}

/// The next text frame or the close, answering pings on the way.
async fn next(ws: &mut Ws) -> Next {
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("the server sends something in time");
        match frame {
            Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                let _ = ws.send(Message::text("3")).await;
            }
            Some(Ok(Message::Text(text))) => return Next::Text(text.as_str().to_owned()),
            Some(Ok(Message::Close(frame))) => {
                return Next::Closed(frame.map(|frame| u16::from(frame.code)));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Next::Closed(None),
        }
    }
}

/// Sends the CONNECT of the main namespace with `token`; the answer.
async fn connect(ws: &mut Ws, token: &str) -> Next {
    let connect = format!("40{}", json!({ "token": token }));
    ws.send(Message::text(connect)).await.unwrap();
    next(ws).await
}

fn is_connected(answer: &Next) -> bool {
    let Next::Text(text) = answer else {
        return false;
    };
    text.strip_prefix("40")
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .is_some_and(|answer| answer["sid"].is_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_socket_cap_gets_connect_error_too_many_connections() {
    let app = TestApp::spawn_with(&[("CHAT_MAX_SOCKETS_PER_USER", "3")]).await;
    app.users(&[1, 2]).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut ws = session(&app).await;
        let answer = connect(&mut ws, &token(1)).await;
        assert!(is_connected(&answer), "{answer:?}");
        held.push(ws);
    }
    let mut fourth = session(&app).await;
    let answer = connect(&mut fourth, &token(1)).await;
    assert_eq!(
        answer,
        Next::Text(r#"44{"message":"Too many connections"}"#.to_owned())
    );
    // The cap is the user's: another user still connects.
    let mut other = session(&app).await;
    assert!(is_connected(&connect(&mut other, &token(2)).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_whose_token_expires_is_told_token_expired_and_disconnected() {
    let app = TestApp::spawn_with(&[("JWT_LEEWAY_SECS", "0")]).await;
    app.users(&[1]).await;
    let exp = chrono::Utc::now().timestamp() + 2;
    let short = sign(&json!({ "id": 1, "username": "user1", "exp": exp }));
    let mut ws = session(&app).await;
    assert!(is_connected(&connect(&mut ws, &short).await));
    let expired = r#"42["error",{"message":"Token expired","code":"token_expired"}]"#;
    assert_eq!(next(&mut ws).await, Next::Text(expired.to_owned()));
    assert_eq!(next(&mut ws).await, Next::Text("41".to_owned()));
    // A token that lasts is not cut off meanwhile.
    let mut lasting = session(&app).await;
    assert!(is_connected(&connect(&mut lasting, &token(1)).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_at_connect_closes_the_connection_rather_than_refuse_the_token() {
    let (app, proxy) = TestApp::behind_a_cuttable_database("1000").await;
    proxy.cut();
    // User 5 was never seen: the server must provision it, and cannot.
    let mut ws = session(&app).await;
    let answer = connect(&mut ws, &token(5)).await;
    let answer = match answer {
        // The Engine.IO `close` packet, then the close frame.
        Next::Text(text) if text == "1" => next(&mut ws).await,
        other => other,
    };
    assert_eq!(
        answer,
        Next::Closed(Some(u16::from(CloseCode::Again))),
        "no CONNECT_ERROR: the client reconnects by itself"
    );
    proxy.restore();
    let mut again = session(&app).await;
    assert!(is_connected(&connect(&mut again, &token(5)).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokenless_session_is_closed_at_the_connect_deadline() {
    let app = TestApp::spawn_with(&[("CHAT_SOCKET_CONNECT_TIMEOUT_MS", "300")]).await;
    let mut idle = session(&app).await;
    assert_eq!(next(&mut idle).await, Next::Text("1".to_owned()));
    assert_eq!(
        next(&mut idle).await,
        Next::Closed(Some(u16::from(CloseCode::Policy)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_session_cap_is_answered_429_before_any_upgrade() {
    let app = TestApp::spawn_with(&[("CHAT_MAX_CONNECTIONS_PER_IP", "2")]).await;
    let _held = [session(&app).await, session(&app).await];
    let polling = app.get("/socket.io/?EIO=4&transport=polling").await;
    assert_eq!(polling.status(), 429);
    let body: serde_json::Value = polling.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "code": 4, "message": "Too many connections" })
    );
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        app.address.replace("http://", "ws://")
    );
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
        }
        other => panic!("expected HTTP 429, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_closed_on_purpose_are_logged_at_info_with_reason_address_and_user() {
    let db = TestDatabase::create().await;
    let (_server, port, mut log) =
        start_binary_logged(&db, &[("CHAT_SOCKET_CONNECT_TIMEOUT_MS", "300")]).await;
    let address = format!("http://127.0.0.1:{port}");
    // A tokenless session that never connects, and a user's that sends an undecodable packet.
    let mut idle = session_at(&address).await;
    let mut garbled = session_at(&address).await;
    assert!(is_connected(&connect(&mut garbled, &token(1)).await));
    garbled.send(Message::text("4xyz")).await.unwrap();
    for ws in [&mut idle, &mut garbled] {
        while !matches!(next(ws).await, Next::Closed(_)) {}
    }
    let mut closes = std::collections::BTreeMap::new();
    while closes.len() < 2 {
        let line = tokio::time::timeout(PATIENCE, log.next_line())
            .await
            .expect("the close is logged in time")
            .unwrap()
            .expect("the server is running");
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "connection closed by the server" {
            assert_eq!(event["level"], "INFO", "{event}");
            assert_eq!(event["peer"], "127.0.0.1", "{event}");
            closes.insert(event["reason"].as_str().unwrap().to_owned(), event);
        }
    }
    assert_eq!(closes["connect_timeout"]["user"], "-");
    assert_eq!(closes["protocol_error"]["user"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_refusing_an_oversized_frame_the_server_reads_nothing_more_of_it() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Far more than socket buffers hold, far less than a server that lingers reads in a second.
    const BUDGET: usize = 64 << 20;
    let app = TestApp::spawn().await;
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    stream
        .write_all(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\
              Upgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 101");
    let mut frame = vec![0x81, 0xFF];
    frame.extend_from_slice(&(1u64 << 40).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    stream.write_all(&frame).await.unwrap();
    let chunk = vec![0u8; 1 << 16];
    let mut sent = 0;
    let refused = tokio::time::timeout(PATIENCE, async {
        while sent < BUDGET {
            match stream.write_all(&chunk).await {
                Ok(()) => sent += chunk.len(),
                Err(_) => return true,
            }
        }
        false
    })
    .await;
    assert!(
        matches!(refused, Ok(true)),
        "the server took {sent} bytes of a frame it had refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_recovery_off_the_connect_answer_has_no_pid_and_events_no_offset() {
    for (setting, recovering) in [("false", false), ("true", true)] {
        let app = TestApp::spawn_with(&[("CHAT_SOCKET_RECOVERY", setting)]).await;
        app.users(&[1, 2]).await;
        let conversation = app.send(1, 2, "first").await["conversation_id"].clone();
        let mut ws = session(&app).await;
        let Next::Text(answer) = connect(&mut ws, &token(2)).await else {
            panic!("no CONNECT answer")
        };
        let answer: serde_json::Value = serde_json::from_str(&answer[2..]).unwrap();
        assert_eq!(answer["pid"].is_string(), recovering, "{setting}: {answer}");
        let join = json!(["join_conversation", { "conversationId": conversation }]);
        ws.send(Message::text(format!("420{join}"))).await.unwrap();
        assert_eq!(
            next(&mut ws).await,
            Next::Text(r#"430[{"success":true}]"#.into())
        );
        app.send(1, 2, "second").await;
        let Next::Text(event) = next(&mut ws).await else {
            panic!("no new_message")
        };
        let event: serde_json::Value = serde_json::from_str(&event[2..]).unwrap();
        assert_eq!(event[0], "new_message", "{event}");
        let offset = event.get(2).and_then(serde_json::Value::as_str);
        assert_eq!(offset.is_some(), recovering, "{setting}: {event}");
    }
}

/// The CONNECT answer's `pid`, after a CONNECT with this `auth`.
async fn connect_with(ws: &mut Ws, auth: serde_json::Value) -> String {
    ws.send(Message::text(format!("40{auth}"))).await.unwrap();
    let Next::Text(answer) = next(ws).await else {
        panic!("no CONNECT answer")
    };
    let answer: serde_json::Value = serde_json::from_str(&answer[2..]).unwrap();
    answer["pid"].as_str().expect("a pid").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_is_refused_past_the_cap_or_for_another_user_and_lastseq_catches_up_in_part() {
    let app = TestApp::spawn_with(&[("CHAT_RECOVERY_MAX_EVENTS", "3")]).await;
    app.users(&[1, 2, 3]).await;
    let conversation = app.send(1, 2, "first").await["conversation_id"].clone();
    let mut ws = session(&app).await;
    let pid = connect_with(&mut ws, json!({ "token": token(2) })).await;
    let join = json!(["join_conversation", { "conversationId": conversation }]);
    ws.send(Message::text(format!("420{join}"))).await.unwrap();
    assert_eq!(
        next(&mut ws).await,
        Next::Text(r#"430[{"success":true}]"#.into())
    );
    drop(ws);
    for n in 0..5 {
        app.send(1, 2, &format!("while away {n}")).await;
    }

    let mut stranger = session(&app).await;
    let theirs = json!({ "token": token(3), "pid": pid });
    assert_ne!(
        connect_with(&mut stranger, theirs).await,
        pid,
        "another user's session"
    );

    let mut back = session(&app).await;
    let again = connect_with(&mut back, json!({ "token": token(2), "pid": pid })).await;
    assert_ne!(again, pid, "5 missed, over the cap of 3: a new session");
    let join = json!(["join_conversation", { "conversationId": conversation, "lastSeq": 1 }]);
    back.send(Message::text(format!("421{join}")))
        .await
        .unwrap();
    let mut seqs = Vec::new();
    let ack = loop {
        let Next::Text(frame) = next(&mut back).await else {
            panic!("closed")
        };
        if let Some(ack) = frame.strip_prefix("431") {
            break serde_json::from_str::<serde_json::Value>(ack).unwrap();
        }
        let event: serde_json::Value = serde_json::from_str(&frame[2..]).unwrap();
        seqs.push(event[1]["seq"].as_i64().unwrap());
    };
    assert_eq!(
        seqs,
        [2, 3, 4],
        "the cap's worth after lastSeq, oldest first"
    );
    assert_eq!(ack[0]["data"]["complete"], false, "{ack}");
    assert_eq!(ack[0]["data"]["lastSeq"], 4, "{ack}");
}
