//! The heartbeat's clock: when the server pings next, and when a missing pong ends the
//! session. Pure timing, shared by whichever task drives the session (the polling driver, then
//! the WebSocket reader after an upgrade), so an upgrade does not reset it.

use std::time::Duration;

use tokio::time::Instant;

/// What the heartbeat wants at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Beat {
    /// Nothing to do before this instant.
    Wait(Instant),
    /// Send a ping now; the pong is due within the ping timeout.
    Ping,
    /// The pong did not come in time: the session is dead.
    TimedOut,
}

/// The heartbeat of one session, as in the reference server: a ping `interval` after the
/// handshake or after the last pong, then `timeout` to answer it.
#[derive(Debug, Clone)]
pub(super) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Instant,
    pong_deadline: Option<Instant>,
}

impl Heartbeat {
    /// Starts the clock at the handshake.
    pub(super) fn new(now: Instant, interval: Duration, timeout: Duration) -> Self {
        Self {
            interval,
            timeout,
            next_ping: now + interval,
            pong_deadline: None,
        }
    }

    /// Advances the clock to `now`: a due ping is reported once, and starts the pong deadline.
    ///
    /// The deadline counts from when the ping was due, not from when a task got round to it,
    /// so that timer lag does not stretch `interval + timeout` (a client that waits exactly
    /// that long finds the session closed); a ping sent very late still gets half the timeout.
    pub(super) fn poll(&mut self, now: Instant) -> Beat {
        match self.pong_deadline {
            Some(deadline) if now >= deadline => Beat::TimedOut,
            Some(deadline) => Beat::Wait(deadline),
            None if now >= self.next_ping => {
                let deadline = (self.next_ping + self.timeout).max(now + self.timeout / 2);
                self.pong_deadline = Some(deadline);
                Beat::Ping
            }
            None => Beat::Wait(self.next_ping),
        }
    }

    /// When the pong of the last ping is due, if one is awaited.
    pub(super) fn pong_deadline(&self) -> Option<Instant> {
        self.pong_deadline
    }

    /// A pong arrived: the next ping is an interval from now (the reference refreshes its
    /// interval timer on every pong, expected or not).
    pub(super) fn pong(&mut self, now: Instant) {
        self.pong_deadline = None;
        self.next_ping = now + self.interval;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_millis(300);
    const TIMEOUT: Duration = Duration::from_millis(200);

    #[test]
    fn first_ping_is_one_interval_after_the_handshake() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(start, INTERVAL, TIMEOUT);
        assert_eq!(heartbeat.poll(start), Beat::Wait(start + INTERVAL));
        assert_eq!(heartbeat.poll(start + INTERVAL), Beat::Ping);
    }

    #[test]
    fn a_ping_without_pong_times_out_after_the_ping_timeout() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(start, INTERVAL, TIMEOUT);
        let ping_at = start + INTERVAL;
        assert_eq!(heartbeat.poll(ping_at), Beat::Ping);
        assert_eq!(heartbeat.poll(ping_at), Beat::Wait(ping_at + TIMEOUT));
        assert_eq!(heartbeat.poll(ping_at + TIMEOUT), Beat::TimedOut);
    }

    #[test]
    fn a_pong_schedules_the_next_ping_one_interval_later() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(start, INTERVAL, TIMEOUT);
        let ping_at = start + INTERVAL;
        assert_eq!(heartbeat.poll(ping_at), Beat::Ping);
        let pong_at = ping_at + Duration::from_millis(50);
        heartbeat.pong(pong_at);
        assert_eq!(
            heartbeat.poll(ping_at + TIMEOUT),
            Beat::Wait(pong_at + INTERVAL)
        );
        assert_eq!(heartbeat.poll(pong_at + INTERVAL), Beat::Ping);
    }

    #[test]
    fn the_pong_deadline_counts_from_when_the_ping_was_due() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(start, INTERVAL, TIMEOUT);
        let lagging = start + INTERVAL + Duration::from_millis(3);
        assert_eq!(heartbeat.poll(lagging), Beat::Ping);
        let deadline = start + INTERVAL + TIMEOUT;
        assert_eq!(heartbeat.pong_deadline(), Some(deadline));
        assert_eq!(heartbeat.poll(deadline), Beat::TimedOut);
    }

    #[test]
    fn a_very_late_ping_still_gets_half_the_timeout() {
        let start = Instant::now();
        let mut heartbeat = Heartbeat::new(start, INTERVAL, TIMEOUT);
        let late = start + INTERVAL * 3;
        assert_eq!(heartbeat.poll(late), Beat::Ping);
        assert_eq!(heartbeat.poll(late), Beat::Wait(late + TIMEOUT / 2));
    }
}
