//! HTTP long-polling: the handshake, the task that keeps a polling session's heartbeat, the
//! GET that waits for queued packets ([`poll`]) and the POST that delivers the client's
//! packets ([`post`]).

mod poll;
mod post;

use std::{sync::Arc, time::Duration};

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
};
use bytestring::ByteString;
use tokio::time::{Instant, sleep, sleep_until};

pub(super) use self::{poll::poll, post::post};
use super::{
    engine::{Engine, handshake_request},
    handler::EngineHandler,
    open::{OpenPacket, TransportKind},
    packet::Packet,
    payload::PayloadWriter,
    request::{self, EngineQuery},
    socket::{EngineSocket, Session},
};

/// How long the server allows for a request overtaken by another on a second connection: a
/// poll that arrives during an upgrade waits this long for the upgrade to complete before it
/// ends with `noop` (a poll already waiting when the probe came ends at once; the reference
/// checks every 100 ms), and a client's `close` waits this long for the client's last poll.
const NOOP_DELAY: Duration = Duration::from_millis(50);

/// How long a session closed by the server waits for the client's next poll to hand it the
/// last payload (the client polls again as soon as its previous poll returns).
const FINAL_POLL_GRACE: Duration = Duration::from_secs(2);

/// Opens a polling session: the answer is the `open` packet.
pub(super) fn handshake<H: EngineHandler>(
    engine: &Arc<Engine<H>>,
    request: &HttpRequest,
    query: EngineQuery,
) -> HttpResponse {
    let Some(socket) = engine.open(TransportKind::Polling, request.peer_addr()) else {
        return request::too_many_sessions();
    };
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
            await_final_poll(session).await;
            engine.finish(&socket, TransportKind::Polling);
            return;
        };
        tokio::select! {
            _ = changed.changed() => {}
            () = sleep_until(wake) => {}
        }
    }
}

/// Gives a client that was between two polls when the server closed its session the time of
/// one more poll to collect the last payload.
async fn await_final_poll(session: &Session) {
    let mut changed = session.subscribe();
    let give_up = sleep(FINAL_POLL_GRACE);
    tokio::pin!(give_up);
    loop {
        changed.borrow_and_update();
        if !session.state().awaits_final_poll() {
            return;
        }
        tokio::select! {
            _ = changed.changed() => {}
            () = &mut give_up => {
                session.state().final_sent = true;
                return;
            }
        }
    }
}

/// A polling answer: text in UTF-8, never cached.
pub(super) fn text(body: ByteString) -> HttpResponse {
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
