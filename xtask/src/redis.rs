//! A throwaway redis-server: its own temp dir, a free 127.0.0.1 port (never 6379, where the
//! machine's own Redis may listen), no persistence; stopped and deleted on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::net::free_port;
use crate::pg::nanos;
use crate::programs::REDIS_SERVER;
use crate::service::Service;

/// How long a fresh redis-server may take to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A running throwaway Redis; dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub(crate) struct Redis {
    /// The server process (`None` only while dropping).
    server: Option<Service>,
    /// Our temp dir: the working directory and `redis.log`.
    dir: PathBuf,
    /// The 127.0.0.1 port it listens on.
    port: u16,
}

impl Redis {
    /// Starts redis-server on a free port and waits until it answers PING; retries with
    /// another port when ours was taken meanwhile.
    pub(crate) fn start() -> Result<Self> {
        let program = REDIS_SERVER.find()?;
        let dir =
            std::env::temp_dir().join(format!("chat-redis-{}-{}", std::process::id(), nanos()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // From here on Drop cleans up, also when a later step fails.
        let mut redis = Self {
            server: None,
            dir,
            port: 0,
        };
        let log = redis.dir.join("redis.log");
        for attempt in 1..=3 {
            redis.port = free_port()?;
            let mut cmd = Command::new(&program);
            cmd.current_dir(&redis.dir)
                .args(["--port", &redis.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&redis.dir)
                .args(["--daemonize", "no", "--protected-mode", "yes"]);
            let server = redis.server.insert(Service::spawn(
                "redis-server",
                cmd,
                &log,
                Duration::from_secs(5),
            )?);
            let started = Instant::now();
            while started.elapsed() < READY_TIMEOUT {
                if ping(redis.port) {
                    return Ok(redis);
                }
                if let Some(status) = server.exited() {
                    let output = std::fs::read_to_string(&log).unwrap_or_default();
                    if attempt < 3 && output.contains("Address already in use") {
                        break; // someone took the port between our check and its bind
                    }
                    bail!("redis-server exited ({status}) before answering PING:\n{output}");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if started.elapsed() >= READY_TIMEOUT {
                bail!(
                    "redis-server on 127.0.0.1:{} did not answer PING within {READY_TIMEOUT:?}; see {}",
                    redis.port,
                    log.display()
                );
            }
        }
        bail!("could not find a free port for redis-server")
    }

    /// The server process.
    pub(crate) fn process(&self) -> Option<&Service> {
        self.server.as_ref()
    }

    /// Our temp dir.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The URL the server reads from `REDIS_URL`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// One line saying where this Redis runs (for the user).
    pub(crate) fn describe(&self) -> String {
        format!(
            "redis-server on 127.0.0.1:{} (no persistence), files in {}",
            self.port,
            self.dir.display()
        )
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
        let removed = std::fs::remove_dir_all(&self.dir);
        // Drop may run while stderr is gone: never panic on the note.
        let _ = match removed {
            Ok(()) => writeln!(
                std::io::stderr(),
                "xtask: redis-server (port {}) stopped, {} removed",
                self.port,
                self.dir.display()
            ),
            Err(e) => writeln!(
                std::io::stderr(),
                "xtask: could not remove {}: {e}",
                self.dir.display()
            ),
        };
    }
}

/// Whether a Redis on 127.0.0.1:`port` answers `PING` with `+PONG` right now (the inline
/// command form of the Redis protocol, so that xtask needs no Redis client).
pub(crate) fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

#[cfg(test)]
mod tests {
    use super::{Redis, ping};

    /// Needs redis-server installed (`cargo xtask test` checks that first).
    #[test]
    fn starts_answers_and_leaves_nothing_behind() -> anyhow::Result<()> {
        let redis = Redis::start()?;
        let port = redis.port;
        let dir = redis.dir.clone();
        assert_ne!(port, 6379);
        assert!(ping(port));
        assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}/"));
        drop(redis);
        assert!(!ping(port), "redis-server still answers after drop");
        assert!(!dir.exists(), "{} still exists", dir.display());
        Ok(())
    }
}
