//! Closing from the server: one session, or all of them at shutdown.

use chat_realtime::engineio::{DisconnectReason, Frame};

use crate::support::{TestServer, no_heartbeat, within};

#[tokio::test]
async fn close_all_ends_every_session_with_the_close_packet_and_server_shutdown() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (polling, _) = server.handshake().await;
    server.opened().await;
    let mut ws = server.websocket("EIO=4&transport=websocket").await;
    ws.open_packet().await;
    let (websocket, _) = server.opened().await;
    assert_eq!(server.engine.session_count(), 2);

    server.engine.close_all(DisconnectReason::ServerShutdown);
    assert_eq!(ws.until_closed().await, ["1"]);
    let query = format!("EIO=4&transport=polling&sid={polling}");
    assert_eq!(server.get(&query).await, (200, "1".to_owned()));
    let mut reasons = [
        server.closed(&polling).await,
        server.closed(websocket.id()).await,
    ];
    reasons.sort_by_key(|reason| reason.as_str());
    assert_eq!(reasons, [DisconnectReason::ServerShutdown; 2]);
    within("every session to end", server.engine.wait_closed()).await;
    assert_eq!(server.engine.session_count(), 0);
    assert_eq!(server.get(&query).await.0, 400);
}

#[tokio::test]
async fn a_server_close_sends_what_was_queued_then_the_close_packet() {
    let mut server = TestServer::spawn(no_heartbeat()).await;
    let (sid, _) = server.handshake().await;
    let (polling, _) = server.opened().await;
    let mut ws = server.websocket("EIO=4&transport=websocket").await;
    ws.open_packet().await;
    let (websocket, _) = server.opened().await;

    for socket in [&polling, &websocket] {
        socket.send(Frame::message("bye")).unwrap();
        socket.close(DisconnectReason::ServerClose);
        assert!(socket.is_closed());
    }
    let query = format!("EIO=4&transport=polling&sid={sid}");
    assert_eq!(server.get(&query).await, (200, "4bye\u{1e}1".to_owned()));
    assert_eq!(ws.until_closed().await, ["4bye", "1"]);
    assert_eq!(
        server.closed(polling.id()).await,
        DisconnectReason::ServerClose
    );
    assert_eq!(
        server.closed(websocket.id()).await,
        DisconnectReason::ServerClose
    );
}
