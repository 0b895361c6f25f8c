//! The polling GET: waits until the session has something to send, then answers with as many
//! queued packets as fit in `max_payload`; ends with `noop` during an upgrade and with the
//! last payload once the session is closed.

use actix_web::HttpResponse;
use bytestring::ByteString;
use tokio::time::{Instant, sleep_until};

use super::{NOOP_DELAY, noop, text};
use crate::engineio::{
    engine::Engine,
    handler::{DisconnectReason, EngineHandler},
    open::TransportKind,
    packet::Packet,
    payload::PayloadWriter,
    request::RequestError,
    socket::{EngineSocket, Session, Upgrade},
};

/// A GET of an open session: waits until there is something to send, then sends as many
/// queued packets as fit in `max_payload` (at least one).
pub(in crate::engineio) async fn poll<H: EngineHandler>(
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
        state.final_sent = true;
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
        drop(state);
        session.notify_changed();
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

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

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
