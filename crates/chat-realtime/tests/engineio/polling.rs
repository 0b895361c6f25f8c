//! HTTP long-polling: payloads both ways, the waiting poll, and the protocol errors that end a
//! session.

use bytes::Bytes;
use bytestring::ByteString;
use chat_realtime::engineio::{DisconnectReason, EngineMessage, Frame};

use crate::support::{Event, TestServer, no_heartbeat};

#[tokio::test]
async fn posted_packets_reach_the_handler_in_order_and_come_back_in_one_payload() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let (socket, _) = server.opened().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let payload = "4hello\u{1e}4€ and \u{1f600}\u{1e}bAQIDBA==";
    assert_eq!(server.post(&query, payload).await, (200, "ok".to_owned()));
    let expected = [
        EngineMessage::Text(ByteString::from_static("hello")),
        EngineMessage::Text(ByteString::from_static("€ and \u{1f600}")),
        EngineMessage::Binary(Bytes::from_static(&[1, 2, 3, 4])),
    ];
    for message in expected {
        match server.event().await {
            Event::Message(from, received) => {
                assert_eq!(from, socket.id());
                assert_eq!(received, message);
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
    assert_eq!(server.get(&query).await, (200, payload.to_owned()));
}

#[tokio::test]
async fn a_poll_answers_with_what_the_server_queues() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let (socket, _) = server.opened().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let poll = server.get(&query);
    let send = async {
        tokio::task::yield_now().await;
        socket.send(Frame::message("later")).unwrap();
    };
    let (answer, ()) = tokio::join!(poll, send);
    assert_eq!(answer, (200, "4later".to_owned()));
}

#[tokio::test]
async fn a_second_concurrent_poll_closes_the_session() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let (first, second) = tokio::join!(server.get(&query), server.get(&query));
    let mut answers = [first, second];
    answers.sort();
    let bad_request = r#"{"code":3,"message":"Bad request"}"#.to_owned();
    assert_eq!(answers, [(200, "1".to_owned()), (400, bad_request)]);
    assert_eq!(server.closed(&sid).await, DisconnectReason::ProtocolError);
    let unknown = r#"{"code":1,"message":"Session ID unknown"}"#.to_owned();
    assert_eq!(server.get(&query).await, (400, unknown));
}

#[tokio::test]
async fn the_client_close_packet_ends_the_session() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    assert_eq!(server.post(&query, "1").await, (200, "ok".to_owned()));
    assert_eq!(server.closed(&sid).await, DisconnectReason::ClientClose);
    assert_eq!(server.get(&query).await.0, 400);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn a_malformed_packet_closes_the_session() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    let bad_request = r#"{"code":3,"message":"Bad request"}"#.to_owned();
    assert_eq!(server.post(&query, "abc").await, (400, bad_request));
    assert_eq!(server.closed(&sid).await, DisconnectReason::ProtocolError);
    assert_eq!(server.get(&query).await.0, 400);
}
