//! Holding a socket's broadcasts while the application catches it up: frames broadcast to the
//! socket meanwhile wait, and go out after the catch-up's own frames, so that a client never
//! sees a live event before the history that precedes it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::engineio::{EngineSocket, Frame, SendError};

/// A frame broadcast while held, with the application's key for it (a conversation and a
/// `seq`, say), by which the release may drop what the catch-up already sent.
pub type HeldFrame = (Frame, Option<(i64, i64)>);

/// The hold of one socket. Broadcasts take a lock only while a hold is on.
#[derive(Default)]
pub(super) struct BroadcastHold {
    on: AtomicBool,
    /// Nested holds and the frames held; the hold ends when the count is back to zero.
    held: Mutex<(usize, Vec<HeldFrame>)>,
}

impl BroadcastHold {
    /// Starts (or nests) a hold. Call it where broadcasts are ordered (under the lock that
    /// orders them), so that none slips past the start.
    pub(super) fn hold(&self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.0 += 1;
        self.on.store(true, Ordering::Release);
    }

    /// Sends a broadcast frame, or keeps it while a hold is on.
    pub(super) fn broadcast(
        &self,
        engine: &EngineSocket,
        frame: Frame,
        key: Option<(i64, i64)>,
    ) -> Result<(), SendError> {
        if self.on.load(Ordering::Acquire) {
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            if held.0 > 0 {
                held.1.push((frame, key));
                return Ok(());
            }
        }
        engine.send(frame)
    }

    /// Ends one hold: sends `first` at once, and, when it was the last hold, every frame
    /// held that `keep` accepts, in the order they were broadcast.
    pub(super) fn release(
        &self,
        engine: &EngineSocket,
        first: Vec<Frame>,
        keep: impl Fn(Option<(i64, i64)>) -> bool,
    ) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        for frame in first {
            let _ = engine.send(frame);
        }
        held.0 = held.0.saturating_sub(1);
        if held.0 == 0 {
            for (frame, key) in std::mem::take(&mut held.1) {
                if keep(key) {
                    let _ = engine.send(frame);
                }
            }
            self.on.store(false, Ordering::Release);
        }
    }
}
