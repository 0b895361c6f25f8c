//! The task that publishes the outbox: whatever is queued goes out in one pipeline, so that a
//! burst costs one round trip to Redis, not one per event. Between bursts it pings Redis, so
//! that the node knows whether its commands get through even when nothing is sent.

use std::sync::Weak;
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use crate::RedisBus;

/// Messages published in one pipeline, at most.
const BATCH: usize = 256;
/// How often the command connection is checked when idle.
const PING_EVERY: Duration = Duration::from_secs(1);

/// Publishes everything queued on `channel` until the bus is dropped. A batch Redis refuses is
/// lost (the other nodes read those events from PostgreSQL); the connection comes back by
/// itself at the next command.
pub(crate) async fn run(
    bus: Weak<RedisBus>,
    mut outbox: mpsc::Receiver<Vec<u8>>,
    mut connection: ConnectionManager,
    channel: String,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let outcome: redis::RedisResult<()> = tokio::select! {
            received = outbox.recv_many(&mut batch, BATCH) => {
                if received == 0 {
                    return;
                }
                let mut pipe = redis::pipe();
                for message in batch.drain(..) {
                    pipe.cmd("PUBLISH").arg(&channel).arg(message).ignore();
                }
                pipe.query_async(&mut connection).await
            }
            _ = ping.tick() => redis::cmd("PING").query_async(&mut connection).await,
        };
        let Some(bus) = bus.upgrade() else { return };
        match outcome {
            Ok(()) => bus.commands.up(),
            Err(error) => bus.commands.down(&error),
        }
    }
}
