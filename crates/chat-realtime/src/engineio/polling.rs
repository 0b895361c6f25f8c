//! HTTP long-polling: the handshake, the GET that waits for queued packets, the POST that
//! delivers the client's packets, and the task that keeps a polling session's heartbeat.

use std::{sync::Arc, time::Duration};

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
    web,
};
use bytes::BytesMut;
use bytestring::ByteString;
use futures_util::StreamExt as _;
use tokio::time::{Instant, sleep, sleep_until};

use super::{
    engine::{Engine, handshake_request},
    handler::{DisconnectReason, EngineHandler, EngineMessage},
    open::{OpenPacket, TransportKind},
    packet::Packet,
    payload::{PayloadWriter, decode_payload},
    request::{EngineQuery, RequestError},
    socket::{EngineSocket, Session, Upgrade},
};

/// How long the server allows for a request overtaken by another on a second connection: a
/// poll that arrives during an upgrade waits this long for the upgrade to complete before it
/// ends with `noop` (a poll already waiting when the probe came ends at once; the reference
/// checks every 100 ms), and a client's `close` waits this long for the client's last poll.
const NOOP_DELAY: Duration = Duration::from_millis(50);

/// Opens a polling session: the answer is the `open` packet.
pub(super) fn handshake<H: EngineHandler>(
    engine: &Arc<Engine<H>>,
    request: &HttpRequest,
    query: EngineQuery,
) -> HttpResponse {
    let socket = engine.open(TransportKind::Polling);
    let config = engine.config();
    let open = Packet::Open(OpenPacket {
        sid: socket.id().to_owned(),
        upgrades: vec![TransportKind::Websocket],
        ping_interval: config.ping_interval,
        ping_timeout: config.ping_timeout,
        max_payload: config.max_payload as u64,
    });
    let mut body = PayloadWriter::new();
    body.push_packet(&open);
    actix_web::rt::spawn(drive(Arc::clone(engine), socket.clone()));
    engine
        .handler()
        .on_open(socket, &handshake_request(request, query));
    text(body.finish())
}

/// Keeps the heartbeat of a polling session and ends it once closed. Hands over to the
/// WebSocket reader when the session upgrades.
async fn drive<H: EngineHandler>(engine: Arc<Engine<H>>, socket: EngineSocket) {
    let session = &socket.session;
    let mut changed = session.subscribe();
    loop {
        changed.borrow_and_update();
        if session.state().transport != TransportKind::Polling {
            return;
        }
        let Some(wake) = session.beat(Instant::now()) else {
            engine.finish(&socket, TransportKind::Polling);
            return;
        };
        tokio::select! {
            _ = changed.changed() => {}
            () = sleep_until(wake) => {}
        }
    }
}

/// A GET of an open session: waits until there is something to send, then sends as many
/// queued packets as fit in `max_payload` (at least one).
pub(super) async fn poll<H: EngineHandler>(
    engine: &Engine<H>,
    socket: &EngineSocket,
) -> HttpResponse {
    let session = &socket.session;
    {
        let mut state = session.state();
        if state.polling {
            drop(state);
            session.close(DisconnectReason::ProtocolError);
            return RequestError::BadRequest.response(false);
        }
        state.polling = true;
    }
    session.notify_changed();
    let mut guard = PollGuard {
        session,
        answered: false,
    };
    let arrived = Instant::now();
    let config = engine.config();
    let give_up = arrived + config.ping_interval + config.ping_timeout;
    let mut changed = session.subscribe();
    loop {
        changed.borrow_and_update();
        let now = Instant::now();
        let wake = match answer(session, arrived, now) {
            Answer::Payload(body) => {
                guard.answered = true;
                return text(body);
            }
            Answer::Error(error) => {
                guard.answered = true;
                return error.response(false);
            }
            Answer::Wait(_) if now >= give_up => {
                guard.answered = true;
                return text(noop());
            }
            Answer::Wait(until) => until.unwrap_or(give_up).min(give_up),
        };
        tokio::select! {
            () = session.ready.notified() => {}
            _ = changed.changed() => {}
            () = sleep_until(wake) => {}
        }
    }
}

/// What a waiting poll does next.
enum Answer {
    Payload(ByteString),
    Error(RequestError),
    /// Nothing to send yet; look again at this instant (or on a change).
    Wait(Option<Instant>),
}

/// Looks at the session for a poll that `arrived` then.
fn answer(session: &Session, arrived: Instant, now: Instant) -> Answer {
    let max_payload = session.config.max_payload;
    let mut state = session.state();
    if let Some(reason) = state.closed {
        let mut body = PayloadWriter::new();
        while let Some(frame) = state.queue.front() {
            if !body.is_empty() && body.len_with(frame) > max_payload {
                break;
            }
            body.push(frame);
            state.queue.pop_front();
        }
        let last = if reason == DisconnectReason::ClientClose {
            Packet::Noop
        } else {
            Packet::Close
        };
        body.push_packet(&last);
        return Answer::Payload(body.finish());
    }
    if state.transport != TransportKind::Polling {
        return Answer::Error(RequestError::BadRequest);
    }
    if let Upgrade::Probed(probed) = state.upgrade {
        let noop_at = if arrived < probed {
            now
        } else {
            arrived + NOOP_DELAY
        };
        return if now >= noop_at {
            Answer::Payload(noop())
        } else {
            Answer::Wait(Some(noop_at))
        };
    }
    if state.queue.is_empty() {
        return Answer::Wait(None);
    }
    let mut body = PayloadWriter::new();
    while let Some(frame) = state.queue.front() {
        if !body.is_empty() && body.len_with(frame) > max_payload {
            break;
        }
        body.push(frame);
        state.queue.pop_front();
    }
    Answer::Payload(body.finish())
}

/// Frees the poll slot; a poll dropped before its answer (the client went away) closes the
/// session, as in the reference.
struct PollGuard<'a> {
    session: &'a Session,
    answered: bool,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.session.state().polling = false;
        if !self.answered {
            self.session.close(DisconnectReason::TransportClose);
        }
    }
}

/// A POST of an open session: reads at most `max_payload` bytes and delivers its packets in
/// order. The answer is `ok`, or an error that also closes the session.
pub(super) async fn post<H: EngineHandler>(
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
        self.socket.session.state().posting = false;
        self.engine.finish(self.socket, TransportKind::Polling);
    }
}

/// A polling answer: text in UTF-8, never cached.
fn text(body: ByteString) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=UTF-8")
        .insert_header(no_store())
        .body(body)
}

fn noop() -> ByteString {
    ByteString::from_static("6")
}

fn no_store() -> (header::HeaderName, HeaderValue) {
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engineio::{EngineConfig, Frame};

    fn session(max_payload: usize) -> Session {
        let config = EngineConfig {
            max_payload,
            ..EngineConfig::default()
        };
        Session::new("sid".into(), TransportKind::Polling, Arc::new(config))
    }

    fn payload(answer: Answer) -> String {
        match answer {
            Answer::Payload(body) => body.to_string(),
            Answer::Error(error) => panic!("expected a payload, got {error:?}"),
            Answer::Wait(_) => panic!("expected a payload, got a wait"),
        }
    }

    #[test]
    fn queued_frames_are_joined_up_to_max_payload() {
        let session = session(10);
        for text in ["4hello", "4world", "4!"] {
            session.push(Frame::Text(ByteString::from(text))).unwrap();
        }
        let now = Instant::now();
        assert_eq!(payload(answer(&session, now, now)), "4hello");
        assert_eq!(payload(answer(&session, now, now)), "4world\u{1e}4!");
        assert!(matches!(answer(&session, now, now), Answer::Wait(None)));
    }

    #[test]
    fn a_closed_session_answers_close_or_noop_after_a_client_close() {
        let now = Instant::now();
        let server_closed = session(100);
        server_closed.push(Frame::message("bye")).unwrap();
        server_closed.close(DisconnectReason::ServerClose);
        assert_eq!(payload(answer(&server_closed, now, now)), "4bye\u{1e}1");
        let client_closed = session(100);
        client_closed.close(DisconnectReason::ClientClose);
        assert_eq!(payload(answer(&client_closed, now, now)), "6");
    }

    #[test]
    fn polls_during_an_upgrade_end_with_noop_and_leave_the_queue() {
        let session = session(100);
        session.push(Frame::message("kept")).unwrap();
        let before = Instant::now();
        let probed = before + Duration::from_millis(1);
        session.state().upgrade = Upgrade::Probed(probed);
        assert_eq!(payload(answer(&session, before, probed)), "6");
        let late = probed + Duration::from_millis(5);
        assert!(
            matches!(answer(&session, late, late), Answer::Wait(Some(at)) if at == late + NOOP_DELAY)
        );
        assert_eq!(payload(answer(&session, late, late + NOOP_DELAY)), "6");
        assert_eq!(session.state().queue.len(), 1);
        session.state().transport = TransportKind::Websocket;
        assert!(matches!(
            answer(&session, late, late),
            Answer::Error(RequestError::BadRequest)
        ));
    }
}
