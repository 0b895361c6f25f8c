//! Limits that protect the server: `max_payload` on what a client sends, and the bounded
//! outbound queue that cuts off a client too slow to read.

use chat_realtime::engineio::{DisconnectReason, EngineConfig, Frame, SendError};

use crate::raw::{RawWs, client_header};
use crate::support::{TestServer, no_heartbeat, within};

fn small_payloads() -> EngineConfig {
    EngineConfig {
        max_payload: 1000,
        ..no_heartbeat()
    }
}

#[tokio::test]
async fn a_websocket_message_above_max_payload_closes_only_that_connection() {
    let mut server = TestServer::spawn(small_payloads()).await;
    let mut big = server.websocket("EIO=4&transport=websocket").await;
    big.open_packet().await;
    let (big_socket, _) = server.opened().await;
    let mut other = server.websocket("EIO=4&transport=websocket").await;
    other.open_packet().await;
    let (other_socket, _) = server.opened().await;

    big.send_text(&format!("4{}", "x".repeat(2000))).await;
    let seen = big.until_closed().await;
    assert!(seen.is_empty() || seen == ["1"], "got {seen:?}");
    assert_eq!(
        server.closed(big_socket.id()).await,
        DisconnectReason::PayloadTooLarge
    );

    other.send_text("4still fine").await;
    assert_eq!(other.recv_text().await, "4still fine");
    assert!(!other_socket.is_closed());
}

#[tokio::test]
async fn a_post_above_max_payload_answers_413_and_closes_only_that_session() {
    let mut server = TestServer::spawn(small_payloads()).await;
    let (big, _) = server.handshake().await;
    let (other, _) = server.handshake().await;
    let big_query = format!("EIO=4&transport=polling&sid={big}");
    let other_query = format!("EIO=4&transport=polling&sid={other}");

    let (status, _) = server
        .post(&big_query, format!("4{}", "x".repeat(2000)))
        .await;
    assert_eq!(status, 413);
    assert_eq!(server.closed(&big).await, DisconnectReason::PayloadTooLarge);
    assert_eq!(server.get(&big_query).await.0, 400);

    assert_eq!(
        server.post(&other_query, "4fine").await,
        (200, "ok".to_owned())
    );
    assert_eq!(server.get(&other_query).await, (200, "4fine".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_cut_off_while_another_keeps_receiving_everything() {
    let config = EngineConfig {
        outbound_queue: 16,
        ..no_heartbeat()
    };
    let mut server = TestServer::spawn(config).await;
    // The slow client completes its handshake, then never reads again.
    let mut slow = server.websocket("EIO=4&transport=websocket").await;
    slow.open_packet().await;
    let (slow_socket, _) = server.opened().await;
    let mut fast = server.websocket("EIO=4&transport=websocket").await;
    fast.open_packet().await;
    let (fast_socket, _) = server.opened().await;

    // Frames go to both at the pace the fast client reads them, until the slow client's
    // socket buffers and then its queue are full.
    let padding = "x".repeat(64 * 1024);
    let mut cut_off_at = None;
    for i in 0..5000 {
        let frame = Frame::message(format_args!("{i}:{padding}"));
        match slow_socket.send(frame.clone()) {
            Ok(()) => {}
            Err(SendError::QueueFull) => {
                cut_off_at = Some(i);
                break;
            }
            Err(error) => panic!("unexpected {error}"),
        }
        fast_socket.send(frame).unwrap();
        let received = fast.recv_text().await;
        assert!(
            received.starts_with(&format!("4{i}:")),
            "frame {i} out of order"
        );
    }
    let cut_off_at = cut_off_at.expect("the slow client was never cut off");
    assert!(cut_off_at >= 16, "cut off after {cut_off_at} frames");
    assert_eq!(
        server.closed(slow_socket.id()).await,
        DisconnectReason::SlowClient
    );
    assert_eq!(
        slow_socket.send(Frame::message("more")),
        Err(SendError::Closed)
    );

    for i in 0..50 {
        fast_socket.send(Frame::message(i)).unwrap();
        assert_eq!(fast.recv_text().await, format!("4{i}"));
    }
    assert!(!fast_socket.is_closed());
    drop(slow);
}

/// A raw WebSocket to `server`, past its `open` packet.
async fn raw_session(server: &TestServer) -> RawWs {
    let address = server.base.trim_start_matches("http://");
    let (address, _) = address.split_once('/').unwrap();
    let mut ws = RawWs::connect(address, "/engine.io/").await;
    let open = ws.frame().await.expect("the open packet");
    assert_eq!(open.payload.first(), Some(&b'0'), "{open:?}");
    ws
}

/// Sends a text frame header declaring `length` bytes and a little payload, and expects close
/// 1009 and `PayloadTooLarge` before the rest could arrive.
async fn refused_from_its_header(length: u64) {
    let mut server = TestServer::spawn(small_payloads()).await;
    let mut ws = raw_session(&server).await;
    let (socket, _) = server.opened().await;
    ws.send_raw(&client_header(0x1, length)).await;
    ws.send_raw(b"4xxxxxxxxxxxxxxx").await;
    let code = within("the close frame", ws.close_code()).await;
    assert_eq!(code, Some(1009));
    assert_eq!(
        server.closed(socket.id()).await,
        DisconnectReason::PayloadTooLarge
    );
}

#[tokio::test]
async fn a_frame_declaring_two_to_the_forty_bytes_is_refused_from_its_header_with_1009() {
    refused_from_its_header(1 << 40).await;
}

#[tokio::test]
async fn a_frame_declaring_one_byte_over_max_payload_is_refused_at_once_with_1009() {
    refused_from_its_header(1001).await;
}

#[tokio::test]
async fn an_address_over_its_session_cap_is_answered_429_until_one_of_its_sessions_ends() {
    let config = EngineConfig {
        max_sessions_per_ip: 2,
        ..no_heartbeat()
    };
    let mut server = TestServer::spawn(config).await;
    let (first, _) = server.handshake().await;
    server.handshake().await;
    let refused = (
        429,
        r#"{"code":4,"message":"Too many connections"}"#.to_owned(),
    );
    assert_eq!(server.get("EIO=4&transport=polling").await, refused);
    assert_eq!(server.engine.refused_sessions(), 1);
    let query = format!("EIO=4&transport=polling&sid={first}");
    assert_eq!(server.post(&query, "1").await.0, 200);
    assert_eq!(server.closed(&first).await, DisconnectReason::ClientClose);
    server.handshake().await;
}
