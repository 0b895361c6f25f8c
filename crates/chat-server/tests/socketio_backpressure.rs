//! A client that stops reading is cut off when its outbound queue fills, and never delays the
//! others in its room: they receive every message.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Value, json};
use support::{TestApp, call, token};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const MESSAGES: usize = 10_000;

/// A raw Socket.IO client over WebSocket, connected as `user` and in `conversation`'s room.
/// `receive_buffer` shrinks the socket's kernel buffer, so that a client that stops reading is
/// noticed after kilobytes rather than megabytes.
async fn join(app: &TestApp, user: i64, conversation: i64, receive_buffer: Option<u32>) -> Ws {
    let address = app.address.trim_start_matches("http://");
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let stream = socket.connect(address.parse().unwrap()).await.unwrap();
    let url = format!("ws://{address}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    let open = next_text(&mut ws).await;
    assert!(open.starts_with('0'), "{open}");
    ws.send(Message::text(format!(
        "40{}",
        json!({ "token": token(user) })
    )))
    .await
    .unwrap();
    let connected = next_text(&mut ws).await;
    assert!(connected.starts_with("40"), "{connected}");
    let join = json!(["join_conversation", { "conversationId": conversation }]);
    ws.send(Message::text(format!("421{join}"))).await.unwrap();
    let ack = next_text(&mut ws).await;
    assert!(ack.starts_with("431[{\"success\":true"), "{ack}");
    ws
}

/// The next text frame, answering pings on the way.
async fn next_text(ws: &mut Ws) -> String {
    loop {
        match ws.next().await.expect("the connection is open").unwrap() {
            Message::Text(text) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.unwrap();
            }
            Message::Text(text) => return text.to_string(),
            _ => {}
        }
    }
}

/// How many `new_message` events arrive before the stream ends or `limit` is reached.
async fn count_new_messages(ws: &mut Ws, limit: usize) -> usize {
    let mut seen = 0;
    while seen < limit {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                if ws.send(Message::text("3")).await.is_err() {
                    break;
                }
            }
            Some(Ok(Message::Text(text))) if text.starts_with("42[\"new_message\"") => seen += 1,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_the_room_receives_everything() {
    // A small queue, so that the slow client is cut off early (the default is 1024 frames).
    let app = TestApp::spawn_with(&[("CHAT_SOCKET_QUEUE", "64"), ("CHAT_DB_POOL_SIZE", "8")]).await;
    app.users(&[1, 2]).await;
    let conversation = app.send(1, 2, "before").await["conversation_id"]
        .as_i64()
        .unwrap();

    let mut slow = join(&app, 2, conversation, Some(4096)).await;
    let mut reader = join(&app, 2, conversation, None).await;
    let reading = tokio::spawn(async move { count_new_messages(&mut reader, MESSAGES).await });

    // Big messages, so the kernel's buffers hold only a small part of what is sent.
    let content = "x".repeat(1000);
    let senders = (0..8).map(|worker| {
        let request = |i: usize| {
            app.as_user(1, Method::POST, "/api/chat/send")
                .json(&json!({ "receiverId": 2, "content": format!("{i} {content}") }))
        };
        let batch: Vec<_> = (worker..MESSAGES).step_by(8).map(request).collect();
        async move {
            for request in batch {
                let (status, body) = call(request).await;
                assert_eq!(status, 201, "{body}");
            }
        }
    });
    futures_util::future::join_all(senders).await;

    let received = tokio::time::timeout(Duration::from_secs(120), reading)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received, MESSAGES, "the reading client gets every message");
    let slow_got = tokio::time::timeout(
        Duration::from_secs(60),
        count_new_messages(&mut slow, MESSAGES),
    )
    .await
    .expect("the slow client's connection ends");
    assert!(
        slow_got < MESSAGES,
        "the slow client was cut off, after {slow_got} messages"
    );
    let (_, unread) = call(app.as_user(2, Method::GET, "/api/chat/unread-count")).await;
    assert_eq!(
        unread["data"]["unreadCount"],
        Value::from(MESSAGES + 1),
        "nothing was lost"
    );
}
