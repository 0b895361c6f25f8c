//! The polling POST: reads at most `max_payload` bytes and delivers the client's packets in
//! order, from the request's task, one POST at a time.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use bytes::BytesMut;
use futures_util::StreamExt as _;
use tokio::time::{Instant, sleep};

use super::{NOOP_DELAY, no_store};
use crate::engineio::{
    engine::Engine,
    handler::{DisconnectReason, EngineHandler, EngineMessage},
    open::TransportKind,
    packet::Packet,
    payload::decode_payload,
    request::RequestError,
    socket::{EngineSocket, Session},
};

/// A POST of an open session: reads at most `max_payload` bytes and delivers its packets in
/// order. The answer is `ok`, or an error that also closes the session.
pub(in crate::engineio) async fn post<H: EngineHandler>(
    engine: &Engine<H>,
    socket: &EngineSocket,
    request: &HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let session = &socket.session;
    let binary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value == "application/octet-stream");
    {
        let mut state = session.state();
        if state.closed.is_some() {
            return RequestError::UnknownSid.response(false);
        }
        if state.posting || binary {
            drop(state);
            session.close(DisconnectReason::ProtocolError);
            return RequestError::BadRequest.response(false);
        }
        state.posting = true;
    }
    let _guard = PostGuard { engine, socket };
    let max_payload = engine.config().max_payload;
    let bytes = match read_body(request, body, max_payload).await {
        Ok(bytes) => bytes,
        Err(reason) => {
            session.close(reason);
            return match reason {
                DisconnectReason::PayloadTooLarge => HttpResponse::PayloadTooLarge().finish(),
                _ => RequestError::BadRequest.response(false),
            };
        }
    };
    let Ok(packets) = decode_payload(bytes.freeze()) else {
        session.close(DisconnectReason::ProtocolError);
        return RequestError::BadRequest.response(false);
    };
    for packet in packets {
        if socket.is_closed() {
            break;
        }
        let message = match packet {
            Ok(Packet::Message(text)) => EngineMessage::Text(text),
            Ok(Packet::Binary(bytes)) => EngineMessage::Binary(bytes),
            Ok(Packet::Pong) => {
                session.pong(Instant::now());
                continue;
            }
            Ok(Packet::Close) => {
                await_last_poll(session).await;
                session.close(DisconnectReason::ClientClose);
                break;
            }
            // In v4 the server pings; the reference closes a session whose client pings.
            Ok(Packet::Ping | Packet::PingProbe) | Err(_) => {
                session.close(DisconnectReason::ProtocolError);
                return RequestError::BadRequest.response(false);
            }
            Ok(Packet::Open(_) | Packet::PongProbe | Packet::Upgrade | Packet::Noop) => continue,
        };
        engine.handler().on_message(socket, message);
    }
    HttpResponse::Ok()
        .content_type("text/html")
        .insert_header(no_store())
        .body("ok")
}

/// Before a client's `close` ends the session, gives the poll that the client may have sent
/// just before it (on another connection, so possibly overtaken) a moment to arrive, so that it
/// ends with `noop` rather than an unknown-session error.
async fn await_last_poll(session: &Session) {
    let mut changed = session.subscribe();
    let give_up = sleep(NOOP_DELAY);
    tokio::pin!(give_up);
    loop {
        changed.borrow_and_update();
        if session.state().polling {
            return;
        }
        tokio::select! {
            _ = changed.changed() => {}
            () = &mut give_up => return,
        }
    }
}

/// Reads a POST body of at most `max` bytes.
async fn read_body(
    request: &HttpRequest,
    mut body: web::Payload,
    max: usize,
) -> Result<BytesMut, DisconnectReason> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(DisconnectReason::PayloadTooLarge);
    }
    let mut bytes = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| DisconnectReason::TransportError)?;
        if bytes.len() + chunk.len() > max {
            return Err(DisconnectReason::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Frees the POST slot, then ends the session if it closed meanwhile (its driver left that to
/// the POST so that `on_close` follows the last `on_message`).
struct PostGuard<'a, H: EngineHandler> {
    engine: &'a Engine<H>,
    socket: &'a EngineSocket,
}

impl<H: EngineHandler> Drop for PostGuard<'_, H> {
    fn drop(&mut self) {
        let lingering = {
            let mut state = self.socket.session.state();
            state.posting = false;
            state.awaits_final_poll()
        };
        // A session waiting for its final poll is ended by its driver once that poll came.
        if !lingering {
            self.engine.finish(self.socket, TransportKind::Polling);
        }
    }
}
