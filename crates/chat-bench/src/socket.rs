//! A bare Socket.IO v5 client over Engine.IO v4 WebSocket: open, CONNECT with a token, join a
//! conversation with an acknowledgement, then listen (answering pings) for `new_message`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::COOKIE;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::route::Route;

/// An open WebSocket to the server.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the handshake steps may take each.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The tool's own read buffer per socket. tungstenite's default is 128 KiB, which for 19,000
/// idle sockets is 2.4 GiB of memory to fault in on the machine the server is measured on;
/// the frames here are a few hundred bytes.
const READ_BUFFER: usize = 4 * 1024;

/// Opens a WebSocket, reads Engine.IO's open packet and connects to the main namespace.
pub(crate) async fn connect(addr: SocketAddr, token: &str) -> Result<Ws> {
    connect_via(&Route::direct(addr), token).await
}

/// Like [`connect`], along `route` (to a chosen node through a balancer).
pub(crate) async fn connect_via(route: &Route, token: &str) -> Result<Ws> {
    let auth = format!(r#"{{"token":"{token}"}}"#);
    let (ws, _) = open(route, &auth).await?;
    Ok(ws)
}

/// Like [`connect`], with `auth` (a JSON object) as the CONNECT payload; also returns the
/// CONNECT answer's payload (`{"sid":...,"pid":...}` when the server keeps recovery sessions).
pub(crate) async fn connect_with(addr: SocketAddr, auth: &str) -> Result<(Ws, String)> {
    open(&Route::direct(addr), auth).await
}

/// Opens the WebSocket along `route` and connects with `auth`; the CONNECT answer's payload.
async fn open(route: &Route, auth: &str) -> Result<(Ws, String)> {
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", route.addr);
    let mut request = url.into_client_request().context("the WebSocket request")?;
    if let Some(cookie) = &route.cookie {
        request
            .headers_mut()
            .insert(COOKIE, HeaderValue::from_str(cookie).context("the cookie")?);
    }
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let opening = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (mut ws, _) = tokio::time::timeout(STEP_TIMEOUT, opening)
        .await
        .context("WebSocket handshake timed out")?
        .context("WebSocket handshake")?;
    let open = next_text(&mut ws).await?;
    if !open.starts_with("0{") {
        bail!("expected the Engine.IO open packet, got {open:?}");
    }
    ws.send(Message::text(format!("40{auth}"))).await?;
    loop {
        let text = next_text(&mut ws).await?;
        if let Some(answer) = text.strip_prefix("40") {
            let answer = answer.to_owned();
            return Ok((ws, answer));
        }
        if text.starts_with("44") {
            bail!("connect refused: {text}");
        }
    }
}

/// Joins the room of `conversation` and waits for the acknowledgement.
pub(crate) async fn join(ws: &mut Ws, conversation: i64) -> Result<()> {
    ws.send(Message::text(format!(
        r#"421["join_conversation",{{"conversationId":{conversation}}}]"#
    )))
    .await?;
    loop {
        let text = next_text(ws).await?;
        if let Some(ack) = text.strip_prefix("431") {
            if ack.contains(r#""success":true"#) {
                return Ok(());
            }
            bail!("join_conversation refused: {ack}");
        }
    }
}

/// The next text frame, answering Engine.IO pings on the way.
pub(crate) async fn next_text(ws: &mut Ws) -> Result<String> {
    loop {
        let frame = tokio::time::timeout(STEP_TIMEOUT, ws.next())
            .await
            .context("no frame from the server in time")?;
        match frame {
            Some(Ok(Message::Text(text))) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await?;
            }
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(Message::Close(close))) => bail!("closed by the server: {close:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("connection ended"),
        }
    }
}

/// A delivery: the listener's tag, the message's seq and when the frame was read.
pub(crate) type Delivery = (usize, u64, Instant);

/// Tells every listener to stop and waits for them; how many sockets were still alive.
pub(crate) async fn stop_all(
    stop: &watch::Sender<bool>,
    listeners: Vec<tokio::task::JoinHandle<bool>>,
) -> u64 {
    let _ = stop.send(true);
    let mut alive = 0;
    for listener in listeners {
        if listener.await.unwrap_or(false) {
            alive += 1;
        }
    }
    alive
}

/// Listens until `stop` changes: answers pings and reports every `new_message` on
/// `deliveries` with `tag`. Returns whether the connection was still open at the end.
pub(crate) async fn listen(
    mut ws: Ws,
    tag: usize,
    deliveries: mpsc::UnboundedSender<Delivery>,
    mut stop: watch::Receiver<bool>,
) -> bool {
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                return true;
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    if text == "2" {
                        if ws.send(Message::text("3")).await.is_err() {
                            return false;
                        }
                    } else if text.starts_with(r#"42["new_message""#)
                        && let Some(seq) = seq_of(text)
                    {
                        let _ = deliveries.send((tag, seq, Instant::now()));
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return false,
                Some(Ok(_)) => {}
            }
        }
    }
}

/// The `seq` field of a message frame.
pub(crate) fn seq_of(text: &str) -> Option<u64> {
    let at = text.find(r#""seq":"#)? + 6;
    let digits: &str = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::seq_of;

    #[test]
    fn finds_the_seq() {
        let frame = r#"42["new_message",{"id":7,"last_seq":1,"seq":42,"content":"x"}]"#;
        assert_eq!(seq_of(frame), Some(42));
        assert_eq!(seq_of(r#"42["new_message",{}]"#), None);
    }
}
