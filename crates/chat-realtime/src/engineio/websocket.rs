//! The WebSocket transport over actix-ws: a session opened directly over WebSocket, and the
//! upgrade of a polling session (`2probe`, `3probe`, `5`). Each connection has two tasks: the
//! reader, which `select!`s over client frames, the heartbeat and the session's changes (the
//! close, including shutdown) and names a [`DisconnectReason`] on every exit; and the writer,
//! which drains the session's bounded queue into the actix-ws session.

use std::{pin::Pin, sync::Arc, time::Duration};

use actix_web::{FromRequest as _, HttpRequest, HttpResponse, error::PayloadError, web};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, ProtocolError};
use bytes::Bytes;
use bytestring::ByteString;
use futures_util::{FutureExt as _, Stream};
use tokio::time::{Instant, sleep, sleep_until};

use super::{
    engine::{Engine, handshake_request},
    frame::Frame,
    frame_guard::{self, GuardedPayload},
    handler::{DisconnectReason, EngineHandler, EngineMessage},
    open::{OpenPacket, TransportKind},
    packet::Packet,
    request::{self, EngineQuery},
    socket::{EngineSocket, Session, Upgrade},
};

/// How long a closing connection's writer may take to send what is left and the close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Opens a session over WebSocket: the `open` packet is its first frame.
pub(super) fn handshake<H: EngineHandler>(
    engine: Arc<Engine<H>>,
    request: &HttpRequest,
    body: web::Payload,
    query: EngineQuery,
) -> HttpResponse {
    let (response, ws, stream) = match accept(&engine, request, body) {
        Ok(parts) => parts,
        Err(error) => return error.error_response(),
    };
    // Nothing has gone to the client yet: a refusal replaces the upgrade's answer.
    let Some(socket) = engine.open(TransportKind::Websocket, request.peer_addr()) else {
        return request::too_many_sessions();
    };
    let config = engine.config();
    let open = Packet::Open(OpenPacket {
        sid: socket.id().to_owned(),
        upgrades: Vec::new(),
        ping_interval: config.ping_interval,
        ping_timeout: config.ping_timeout,
        max_payload: config.max_payload as u64,
    });
    // The queue of a new session is empty, so the first frame always fits.
    let _ = socket.send(open.encode());
    engine
        .handler()
        .on_open(socket.clone(), &handshake_request(request, query));
    actix_web::rt::spawn(serve(engine, socket, ws, stream));
    response
}

/// A WebSocket for an existing session: probes and upgrades a polling session. A second
/// WebSocket for a session (upgrading or upgraded) is accepted and closed, as the reference
/// does.
pub(super) fn upgrade<H: EngineHandler>(
    engine: Arc<Engine<H>>,
    request: &HttpRequest,
    body: web::Payload,
    socket: EngineSocket,
) -> HttpResponse {
    let (response, ws, stream) = match accept(&engine, request, body) {
        Ok(parts) => parts,
        Err(error) => return error.error_response(),
    };
    let starts = {
        let mut state = socket.session.state();
        let free = state.closed.is_none()
            && state.transport == TransportKind::Polling
            && state.upgrade == Upgrade::Idle;
        if free {
            state.upgrade = Upgrade::Connecting;
        }
        free
    };
    if starts {
        actix_web::rt::spawn(probe(engine, socket, ws, stream));
    } else {
        actix_web::rt::spawn(async move {
            let _ = ws.close(None).await;
            drop(stream);
        });
    }
    response
}

type Accepted = (HttpResponse, actix_ws::Session, AggregatedMessageStream);

/// Completes the WebSocket handshake, with frames and messages limited to `max_payload`: the
/// client's bytes pass through [`GuardedPayload`] first, which refuses an oversize frame from
/// its header, before the codec would buffer its payload.
fn accept<H: EngineHandler>(
    engine: &Engine<H>,
    request: &HttpRequest,
    body: web::Payload,
) -> Result<Accepted, actix_web::Error> {
    let max = engine.config().max_payload;
    let guarded: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(GuardedPayload::new(body, max));
    let mut payload = actix_web::dev::Payload::from(guarded);
    let body = web::Payload::from_request(request, &mut payload).into_inner()?;
    let (response, ws, stream) = actix_ws::handle(request, body)?;
    let stream = stream
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    Ok((response, ws, stream))
}

/// The upgrade of a polling session: answers the probe, then waits for `upgrade`. Polling goes
/// on until the probe; after it, polls end with `noop` and the queue waits for this WebSocket.
async fn probe<H: EngineHandler>(
    engine: Arc<Engine<H>>,
    socket: EngineSocket,
    mut ws: actix_ws::Session,
    mut stream: AggregatedMessageStream,
) {
    let session = &socket.session;
    let mut changed = session.subscribe();
    let timeout = sleep(engine.config().upgrade_timeout);
    tokio::pin!(timeout);
    let upgraded = loop {
        changed.borrow_and_update();
        if socket.is_closed() {
            break false;
        }
        tokio::select! {
            () = &mut timeout => break false,
            _ = changed.changed() => {}
            message = stream.recv() => match message {
                Some(Ok(AggregatedMessage::Text(text))) => match Packet::decode(&text) {
                    Ok(Packet::PingProbe) => {
                        if ws.text(ByteString::from_static("3probe")).await.is_err() {
                            break false;
                        }
                        mark_probed(session);
                    }
                    Ok(Packet::Upgrade) => break complete_upgrade(session),
                    _ => break false,
                },
                Some(Ok(AggregatedMessage::Ping(bytes))) => pong(&mut ws, &bytes),
                Some(Ok(AggregatedMessage::Pong(_))) => {}
                _ => break false,
            },
        }
    };
    if upgraded {
        serve(engine, socket, ws, stream).await;
    } else {
        abandon_upgrade(session);
        let _ = ws.close(None).await;
    }
}

/// The probe was answered: from now on polls end with `noop`.
fn mark_probed(session: &Session) {
    let mut state = session.state();
    if state.upgrade == Upgrade::Connecting {
        state.upgrade = Upgrade::Probed(Instant::now());
        drop(state);
        session.notify_changed();
    }
}

/// Switches the session to WebSocket, unless it closed meanwhile. A POST still being delivered
/// would make two readers: the client broke the protocol.
fn complete_upgrade(session: &Session) -> bool {
    let mut state = session.state();
    if state.closed.is_some() {
        return false;
    }
    if state.posting {
        drop(state);
        session.close(DisconnectReason::ProtocolError);
        return false;
    }
    state.transport = TransportKind::Websocket;
    state.upgrade = Upgrade::Idle;
    drop(state);
    crate::observability::session_upgraded();
    session.notify_changed();
    true
}

/// The upgrade failed: before the probe, polling simply goes on; after it, the client has
/// paused polling for this WebSocket, so the session has no transport left.
fn abandon_upgrade(session: &Session) {
    let mut state = session.state();
    let probed = matches!(state.upgrade, Upgrade::Probed(_));
    state.upgrade = Upgrade::Idle;
    drop(state);
    if probed {
        session.close(DisconnectReason::UpgradeFailed);
    }
    session.notify_changed();
}

/// Runs a WebSocket session until it ends, then ends the session.
async fn serve<H: EngineHandler>(
    engine: Arc<Engine<H>>,
    socket: EngineSocket,
    ws: actix_ws::Session,
    mut stream: AggregatedMessageStream,
) {
    let mut writer = actix_web::rt::spawn(write(socket.clone(), ws.clone()));
    let reason = read(&engine, &socket, ws, &mut stream).await;
    socket.close(reason);
    engine.finish(&socket, TransportKind::Websocket);
    if tokio::time::timeout(CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Reads the client until the session ends, and says why it ended.
async fn read<H: EngineHandler>(
    engine: &Engine<H>,
    socket: &EngineSocket,
    mut ws: actix_ws::Session,
    stream: &mut AggregatedMessageStream,
) -> DisconnectReason {
    let session = &socket.session;
    let mut changed = session.subscribe();
    loop {
        changed.borrow_and_update();
        let Some(wake) = session.beat(Instant::now()) else {
            // Closed elsewhere (or by the heartbeat): that reason stands.
            return session
                .state()
                .closed
                .unwrap_or(DisconnectReason::ServerClose);
        };
        tokio::select! {
            _ = changed.changed() => {}
            () = sleep_until(wake) => {}
            message = stream.recv() => match message {
                None | Some(Ok(AggregatedMessage::Close(_))) => {
                    return DisconnectReason::TransportClose;
                }
                Some(Err(error)) => return read_error(&error),
                Some(Ok(AggregatedMessage::Text(text))) => {
                    if let Err(reason) = on_text(engine, socket, &text) {
                        return reason;
                    }
                }
                Some(Ok(AggregatedMessage::Binary(bytes))) => {
                    engine.handler().on_message(socket, EngineMessage::Binary(bytes));
                }
                Some(Ok(AggregatedMessage::Ping(bytes))) => pong(&mut ws, &bytes),
                Some(Ok(AggregatedMessage::Pong(_))) => {}
            },
        }
    }
}

/// Handles one text frame: an Engine.IO packet.
fn on_text<H: EngineHandler>(
    engine: &Engine<H>,
    socket: &EngineSocket,
    text: &ByteString,
) -> Result<(), DisconnectReason> {
    let message = match Packet::decode(text) {
        Ok(Packet::Message(text)) => EngineMessage::Text(text),
        Ok(Packet::Binary(bytes)) => EngineMessage::Binary(bytes),
        Ok(Packet::Pong) => {
            socket.session.pong(Instant::now());
            return Ok(());
        }
        Ok(Packet::Close) => return Err(DisconnectReason::ClientClose),
        // In v4 the server pings; the reference closes a session whose client pings.
        Ok(Packet::Ping | Packet::PingProbe) | Err(_) => {
            return Err(DisconnectReason::ProtocolError);
        }
        Ok(Packet::Open(_) | Packet::PongProbe | Packet::Upgrade | Packet::Noop) => return Ok(()),
    };
    engine.handler().on_message(socket, message);
    Ok(())
}

/// Why reading failed.
fn read_error(error: &ProtocolError) -> DisconnectReason {
    match error {
        ProtocolError::Overflow => DisconnectReason::PayloadTooLarge,
        ProtocolError::Io(io) if frame_guard::is_oversize(io) => DisconnectReason::PayloadTooLarge,
        // actix-ws reports a fragmented message over its limit as this I/O error.
        ProtocolError::Io(io) if io.to_string().contains("maximum continuation size") => {
            DisconnectReason::PayloadTooLarge
        }
        _ => DisconnectReason::TransportError,
    }
}

/// Answers a WebSocket ping if the connection has room now; a client that does not read its
/// pongs is not worth waiting for (the reader must never block on the writer's side).
fn pong(ws: &mut actix_ws::Session, bytes: &[u8]) {
    let _ = ws.pong(bytes).now_or_never();
}

/// Drains the session's queue into the WebSocket, one frame per packet, until the session
/// closes; then sends the Engine.IO `close` packet if the reason calls for it, and the
/// WebSocket close frame.
async fn write(socket: EngineSocket, mut ws: actix_ws::Session) {
    let session = &socket.session;
    let mut changed = session.subscribe();
    loop {
        changed.borrow_and_update();
        let (frame, closed) = {
            let mut state = session.state();
            (state.queue.pop_front(), state.closed)
        };
        let sent = match (frame, closed) {
            (Some(Frame::Text(text)), _) => ws.text(text).await,
            (Some(Frame::Binary(bytes)), _) => ws.binary(bytes).await,
            (None, Some(reason)) => {
                if reason.sends_close_packet() {
                    let _ = ws.text(ByteString::from_static("1")).await;
                }
                let _ = ws.close(Some(close_code(reason).into())).await;
                return;
            }
            (None, None) => {
                tokio::select! {
                    () = session.ready.notified() => {}
                    _ = changed.changed() => {}
                }
                continue;
            }
        };
        if sent.is_err() {
            socket.close(DisconnectReason::TransportError);
            return;
        }
    }
}

/// The WebSocket close code that goes with a reason.
fn close_code(reason: DisconnectReason) -> CloseCode {
    match reason {
        DisconnectReason::PayloadTooLarge => CloseCode::Size,
        DisconnectReason::ProtocolError => CloseCode::Protocol,
        DisconnectReason::ServerShutdown => CloseCode::Away,
        DisconnectReason::SlowClient
        | DisconnectReason::Flooding
        | DisconnectReason::ConnectTimeout
        | DisconnectReason::AttachmentTimeout => CloseCode::Policy,
        DisconnectReason::ServiceUnavailable => CloseCode::Again,
        _ => CloseCode::Normal,
    }
}
