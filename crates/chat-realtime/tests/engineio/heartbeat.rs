//! The heartbeat: the server pings every `ping_interval`, and a session whose pong does not
//! come within `ping_timeout` is closed, over both transports.

use std::time::{Duration, Instant};

use chat_realtime::engineio::DisconnectReason;

use crate::support::{TestServer, quick_heartbeat};

/// `ping_interval` + `ping_timeout` of [`quick_heartbeat`].
const DEAD_AFTER: Duration = Duration::from_millis(200);

#[tokio::test]
async fn a_polling_session_without_pong_closes_after_ping_interval_plus_timeout() {
    let mut server = TestServer::spawn(quick_heartbeat()).await;
    let start = Instant::now();
    let (sid, _) = server.handshake().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    assert_eq!(server.get(&query).await, (200, "2".to_owned()));
    assert_eq!(server.closed(&sid).await, DisconnectReason::PingTimeout);
    assert!(
        start.elapsed() >= DEAD_AFTER,
        "closed after {:?}",
        start.elapsed()
    );
    assert_eq!(server.get(&query).await.0, 400);
}

#[tokio::test]
async fn pongs_keep_a_polling_session_open() {
    let server = TestServer::spawn(quick_heartbeat()).await;
    let start = Instant::now();
    let (sid, _) = server.handshake().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    for _ in 0..3 {
        assert_eq!(server.get(&query).await, (200, "2".to_owned()));
        assert_eq!(server.post(&query, "3").await, (200, "ok".to_owned()));
    }
    assert!(start.elapsed() > DEAD_AFTER);
    let socket = server.engine.socket(&sid).unwrap();
    assert!(!socket.is_closed());
}

#[tokio::test]
async fn a_websocket_session_without_pong_closes_after_ping_interval_plus_timeout() {
    let mut server = TestServer::spawn(quick_heartbeat()).await;
    let start = Instant::now();
    let mut ws = server.websocket("EIO=4&transport=websocket").await;
    ws.open_packet().await;
    let (socket, _) = server.opened().await;
    assert_eq!(ws.recv_text().await, "2");
    assert_eq!(ws.until_closed().await, ["1"]);
    assert_eq!(
        server.closed(socket.id()).await,
        DisconnectReason::PingTimeout
    );
    assert!(
        start.elapsed() >= DEAD_AFTER,
        "closed after {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn pongs_keep_a_websocket_session_open() {
    let mut server = TestServer::spawn(quick_heartbeat()).await;
    let start = Instant::now();
    let mut ws = server.websocket("EIO=4&transport=websocket").await;
    ws.open_packet().await;
    let (socket, _) = server.opened().await;
    for _ in 0..3 {
        assert_eq!(ws.recv_text().await, "2");
        ws.send_text("3").await;
    }
    assert!(start.elapsed() > DEAD_AFTER);
    assert!(!socket.is_closed());
    ws.send_text("4still here").await;
    assert_eq!(ws.recv_text().await, "4still here");
}
