//! The upgrade from polling to WebSocket: probe, `noop` for the poll, upgrade, and the queue
//! flushed over the WebSocket in order.

use chat_realtime::engineio::{Frame, TransportKind};

use crate::support::{Received, TestServer, no_heartbeat};

#[tokio::test]
async fn an_upgrade_flushes_the_packets_buffered_meanwhile_in_order_over_the_websocket() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let (socket, _) = server.opened().await;
    let query = format!("EIO=4&transport=polling&sid={sid}");
    socket.send(Frame::message("before")).unwrap();
    assert_eq!(server.get(&query).await, (200, "4before".to_owned()));

    let mut ws = server
        .websocket(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await;
    ws.send_text("2probe").await;
    assert_eq!(ws.recv_text().await, "3probe");
    assert_eq!(server.get(&query).await, (200, "6".to_owned()));
    socket.send(Frame::message("one")).unwrap();
    socket.send(Frame::binary(vec![1, 2, 3].into())).unwrap();
    socket.send(Frame::message("two")).unwrap();
    ws.send_text("5").await;

    assert_eq!(ws.recv().await, Received::Text("4one".to_owned()));
    assert_eq!(ws.recv().await, Received::Binary(vec![1, 2, 3]));
    assert_eq!(ws.recv().await, Received::Text("4two".to_owned()));
    assert_eq!(socket.transport(), TransportKind::Websocket);
    ws.send_text("4after").await;
    assert_eq!(ws.recv_text().await, "4after");

    let bad_request = r#"{"code":3,"message":"Bad request"}"#.to_owned();
    assert_eq!(server.get(&query).await, (400, bad_request.clone()));
    assert_eq!(server.post(&query, "4late").await, (400, bad_request));
}

#[tokio::test]
async fn a_second_websocket_for_a_session_being_upgraded_is_closed() {
    let server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let upgrade = format!("EIO=4&transport=websocket&sid={sid}");
    let mut first = server.websocket(&upgrade).await;
    first.send_text("2probe").await;
    assert_eq!(first.recv_text().await, "3probe");
    let mut second = server.websocket(&upgrade).await;
    assert_eq!(second.recv().await, Received::Closed);
    first.send_text("5").await;
    first.send_text("4hello").await;
    assert_eq!(first.recv_text().await, "4hello");
    assert_eq!(server.engine.session_count(), 1);
}

#[tokio::test]
async fn a_failed_probe_leaves_the_session_polling() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let (socket, _) = server.opened().await;
    let mut ws = server
        .websocket(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await;
    ws.send_text("4not a probe").await;
    assert_eq!(ws.recv().await, Received::Closed);
    let query = format!("EIO=4&transport=polling&sid={sid}");
    assert_eq!(
        server.post(&query, "4still polling").await,
        (200, "ok".to_owned())
    );
    assert_eq!(server.get(&query).await, (200, "4still polling".to_owned()));
    assert_eq!(socket.transport(), TransportKind::Polling);
}
