//! The task that listens to the channel: it subscribes, hands every message to the bus, pings
//! Redis so that a silent connection is noticed, and subscribes again with a growing pause
//! (up to [`MAX_PAUSE`]) whenever the connection is lost.

use std::sync::Weak;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::{sleep, timeout};

use crate::RedisBus;
use crate::bus::CONNECT_TIMEOUT;

/// The first pause before subscribing again.
const MIN_PAUSE: Duration = Duration::from_millis(100);
/// The longest pause before subscribing again.
const MAX_PAUSE: Duration = Duration::from_secs(2);
/// How often an idle subscription checks that Redis still answers.
const PING_EVERY: Duration = Duration::from_secs(2);

/// Why a subscription ended.
#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("Redis did not answer in time")]
    Timeout,
    #[error("the connection was closed")]
    Closed,
    #[error("the bus was dropped")]
    Dropped,
}

impl From<tokio::time::error::Elapsed> for Lost {
    fn from(_: tokio::time::error::Elapsed) -> Self {
        Lost::Timeout
    }
}

/// Listens to `channel` until the bus is dropped.
pub(crate) async fn run(bus: Weak<RedisBus>, client: redis::Client, channel: String) {
    let mut pause = MIN_PAUSE;
    loop {
        let mut subscribed = false;
        let lost = listen(&bus, &client, &channel, &mut subscribed).await;
        let Some(strong) = bus.upgrade() else { return };
        if matches!(lost, Lost::Dropped) {
            return;
        }
        strong.subscription.down(&lost);
        drop(strong);
        pause = if subscribed {
            MIN_PAUSE
        } else {
            (pause * 2).min(MAX_PAUSE)
        };
        sleep(pause).await;
    }
}

/// One subscription, until it is lost; sets `subscribed` once it was made.
async fn listen(
    bus: &Weak<RedisBus>,
    client: &redis::Client,
    channel: &str,
    subscribed: &mut bool,
) -> Lost {
    let subscription = async {
        let mut pubsub = timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await??;
        timeout(CONNECT_TIMEOUT, pubsub.subscribe(channel)).await??;
        Ok::<_, Lost>(pubsub)
    };
    let (mut sink, mut stream) = match subscription.await {
        Ok(pubsub) => pubsub.split(),
        Err(lost) => return lost,
    };
    *subscribed = true;
    match bus.upgrade() {
        Some(bus) => bus.subscription.up(),
        None => return Lost::Dropped,
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Lost::Closed };
                let Some(bus) = bus.upgrade() else { return Lost::Dropped };
                bus.received(message.get_payload_bytes());
            }
            _ = ping.tick() => {
                match timeout(CONNECT_TIMEOUT, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return Lost::Redis(error),
                    Err(_) => return Lost::Timeout,
                }
            }
        }
    }
}
