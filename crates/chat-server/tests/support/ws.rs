//! A Socket.IO client over a bare WebSocket, for tests that need a user's socket connected
//! (presence, metrics) without the npm client.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{TestApp, token};

/// A WebSocket-only Engine.IO session.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The longest any one expected frame may take; only a bound on a failure.
const PATIENCE: Duration = Duration::from_secs(10);

/// The next text frame that is not a ping (answered on the way).
pub(crate) async fn next_text(ws: &mut Ws) -> String {
    loop {
        let frame = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .unwrap();
        match frame {
            Message::Text(text) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.unwrap();
            }
            Message::Text(text) => return text.as_str().to_owned(),
            _ => {}
        }
    }
}

/// A WebSocket session of `user` with `app`, connected to the main namespace (its `open` and
/// CONNECT answered).
pub(crate) async fn connected_socket(app: &TestApp, user: i64) -> Ws {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        app.address.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert!(next_text(&mut ws).await.starts_with('0'), "the open packet");
    let connect = format!("40{}", json!({ "token": token(user) }));
    ws.send(Message::text(connect)).await.unwrap();
    assert!(next_text(&mut ws).await.starts_with("40"), "the CONNECT");
    ws
}
