//! The bus against a real `redis-server` of its own (on a free port, never the machine's
//! 6379): what one node publishes reaches the others and not itself, and a node knows when
//! its Redis is gone and when it is back, without a restart.

// Test code: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_bus_redis::{RedisBus, RedisBusConfig};
use chat_domain::{
    ChatEvent, ConversationId, EventSink, MessagesRead, Seq, StreamEvent, StreamPosition, UserId,
};

/// A `redis-server` on `port`, stopped when dropped.
struct Redis {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let program =
            std::env::var("CHAT_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned());
        let dir = std::env::temp_dir().join(format!("chat-bus-redis-test-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(&program)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} does not start ({e}): install redis-server"));
        let redis = Redis { child, port, dir };
        eventually("redis-server answers", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `condition` holds, failing after ten seconds.
fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn read_event(position: i64) -> StreamEvent {
    StreamEvent {
        position: StreamPosition {
            writer: 3,
            position,
        },
        event: ChatEvent::MessagesRead(MessagesRead {
            conversation_id: ConversationId(11),
            user_id: UserId(7),
            last_read_seq: Seq(position),
            read_at: chrono::Utc::now(),
        }),
    }
}

/// A node's bus, with what it observed from the others.
fn node(url: &str) -> (Arc<RedisBus>, Arc<Mutex<Vec<ChatEvent>>>) {
    let bus = RedisBus::start(RedisBusConfig::new(url)).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    bus.observe_remote(move |event| sink.lock().unwrap().push(event.clone()));
    (bus, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_node_publishes_reaches_the_other_nodes_and_not_itself() {
    let redis = Redis::start(free_port());
    let (a, seen_by_a) = node(&redis.url());
    let (b, seen_by_b) = node(&redis.url());
    until("both nodes connected", || a.connected() && b.connected()).await;
    for position in 1..=50 {
        a.publish(read_event(position));
    }
    until("b observed 50 events", || {
        seen_by_b.lock().unwrap().len() == 50
    })
    .await;
    let positions: Vec<i64> = seen_by_b
        .lock()
        .unwrap()
        .iter()
        .map(|event| match event {
            ChatEvent::MessagesRead(read) => read.last_read_seq.0,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        positions,
        (1..=50).collect::<Vec<_>>(),
        "in publishing order"
    );
    // A publishes one more through B, so that A's own 50 had time to come back to it.
    b.publish(read_event(51));
    until("a observed b's event", || {
        !seen_by_a.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(
        seen_by_a.lock().unwrap().len(),
        1,
        "a skipped its own events"
    );
    assert_eq!(a.dropped(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_is_not_connected_while_redis_is_away_and_is_again_when_it_returns() {
    let port = free_port();
    let redis = Redis::start(port);
    let (a, _) = node(&redis.url());
    let (b, seen_by_b) = node(&redis.url());
    until("connected", || a.connected() && b.connected()).await;
    drop(redis);
    until("a notices", || !a.connected()).await;
    // Sends go on meanwhile: publishing never blocks, whatever Redis does.
    let started = Instant::now();
    for position in 1..=1000 {
        a.publish(read_event(position));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "publishing blocked"
    );
    let _back = Redis::start(port);
    until("a and b reconnect by themselves", || {
        a.connected() && b.connected()
    })
    .await;
    a.publish(read_event(1001));
    until("b gets what is published after the return", || {
        seen_by_b.lock().unwrap().iter().any(
            |event| matches!(event, ChatEvent::MessagesRead(read) if read.last_read_seq.0 == 1001),
        )
    })
    .await;
}
