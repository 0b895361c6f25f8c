//! The HAProxy load balancer in front of the nodes of `cargo xtask cluster`: its configuration,
//! made from the committed example `deploy/haproxy.cfg`, and the process, stopped on drop.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::net::free_port;
use crate::programs::HAPROXY;
use crate::service::Service;

/// The example configuration users read, which is also our template: its `bind` line and its
/// `server` lines are replaced, everything else is kept as written.
const TEMPLATE: &str = include_str!("../../deploy/haproxy.cfg");

/// The HAProxy configuration for a frontend on 127.0.0.1:`port` in front of nodes on
/// 127.0.0.1:`backends` (node 1 first): the template with its `bind` line pointed at `port`
/// and its first `server` line repeated once per node (its check options kept, `cookie nodeN`
/// each), the template's other `server` lines left out.
pub(crate) fn config(port: u16, backends: &[u16]) -> Result<String> {
    let mut out = String::with_capacity(TEMPLATE.len() + 80 * backends.len());
    let (mut binds, mut servers) = (0, 0);
    for line in TEMPLATE.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("bind") => {
                binds += 1;
                out.push_str(&format!("{indent}bind 127.0.0.1:{port}\n"));
            }
            Some("server") => {
                servers += 1;
                if servers > 1 {
                    continue;
                }
                let options = server_options(&words);
                for (i, backend) in backends.iter().enumerate() {
                    let n = i + 1;
                    out.push_str(&format!(
                        "{indent}server node{n} 127.0.0.1:{backend} {options} cookie node{n}\n"
                    ));
                }
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if binds != 1 || servers == 0 {
        bail!(
            "deploy/haproxy.cfg must have one `bind` line and at least one `server` line \
             (found {binds} and {servers})"
        );
    }
    Ok(out)
}

/// The options of a template `server NAME ADDRESS OPTIONS...` line, without its `cookie VALUE`.
fn server_options(words: &[&str]) -> String {
    let mut kept = Vec::new();
    let mut options = words.iter().skip(3);
    while let Some(&word) = options.next() {
        if word == "cookie" {
            options.next();
        } else {
            kept.push(word);
        }
    }
    kept.join(" ")
}

/// A running HAProxy (`haproxy -f CFG -db`: in the foreground, a child of xtask).
#[derive(Debug)]
pub(crate) struct Balancer {
    /// The process.
    haproxy: Service,
    /// Its frontend port on 127.0.0.1.
    port: u16,
    /// The configuration file it runs with.
    config: PathBuf,
}

impl Balancer {
    /// Writes the configuration for `backends` to `dir/haproxy.cfg` and starts HAProxy on a free
    /// port, its output in `dir/haproxy.log`; it answers once it has bound its port, and sends
    /// traffic to a node once that node's /readyz check passes.
    pub(crate) fn start(dir: &Path, backends: &[u16]) -> Result<Self> {
        let program = HAPROXY.find()?;
        let port = free_port()?;
        let config_path = dir.join("haproxy.cfg");
        std::fs::write(&config_path, config(port, backends)?)
            .with_context(|| format!("writing {}", config_path.display()))?;
        let mut cmd = Command::new(program);
        cmd.arg("-f").arg(&config_path).arg("-db").current_dir(dir);
        // SIGTERM stops HAProxy at once: the nodes are stopped (and drained) before it.
        let haproxy = Service::spawn(
            "haproxy",
            cmd,
            &dir.join("haproxy.log"),
            Duration::from_secs(5),
        )?;
        Ok(Self {
            haproxy,
            port,
            config: config_path,
        })
    }

    /// The frontend port on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The configuration file it runs with.
    pub(crate) fn config(&self) -> &Path {
        &self.config
    }

    /// HAProxy's log file.
    pub(crate) fn log(&self) -> &Path {
        self.haproxy.log()
    }

    /// The process, to record.
    pub(crate) fn service(&self) -> &Service {
        &self.haproxy
    }

    /// The process, to watch and stop.
    pub(crate) fn process(&mut self) -> &mut Service {
        &mut self.haproxy
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    use super::{Balancer, TEMPLATE, config};
    use crate::net::http_status;

    #[test]
    fn config_has_one_server_per_node_and_keeps_the_rest() -> anyhow::Result<()> {
        let cfg = config(4000, &[4001, 4002, 4003])?;
        assert!(cfg.contains("    bind 127.0.0.1:4000\n"), "{cfg}");
        for n in 1..=3 {
            let line = format!(
                "    server node{n} 127.0.0.1:{} check inter 1s fall 2 rise 1 cookie node{n}\n",
                4000 + n
            );
            assert!(cfg.contains(&line), "missing {line:?} in\n{cfg}");
        }
        let servers = cfg
            .lines()
            .filter(|l| l.trim_start().starts_with("server "));
        assert_eq!(servers.count(), 3);
        for directive in [
            "mode http",
            "balance roundrobin",
            "cookie CHATNODE insert indirect nocache",
            "option httpchk GET /readyz",
            "option redispatch",
            "retries 3",
            "option forwardfor",
            "timeout connect 2s",
            "timeout client 60s",
            "timeout server 60s",
            "timeout tunnel 1h",
            "timeout http-keep-alive 5s",
        ] {
            assert!(cfg.contains(directive), "missing {directive:?} in\n{cfg}");
        }
        assert_eq!(
            cfg.lines().count(),
            TEMPLATE.lines().count() + 1,
            "three servers instead of the template's two"
        );
        Ok(())
    }

    /// A backend answering every request with 200 until its listener is dropped.
    fn backend() -> anyhow::Result<(u16, TcpListener)> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let serving = listener.try_clone()?;
        std::thread::spawn(move || {
            for mut conn in serving.incoming().flatten() {
                let mut request = [0u8; 1024];
                let _ = conn.read(&mut request);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Ok((port, listener))
    }

    /// Needs haproxy installed (`cargo xtask test` checks that first).
    #[test]
    fn haproxy_routes_around_a_dead_node() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("chat-balancer-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let (alive, _keep) = backend()?;
        // A node that died: its port refuses connections.
        let dead = TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port();
        let mut balancer = Balancer::start(&dir, &[dead, alive])?;
        let started = Instant::now();
        let mut answers = Vec::new();
        while answers.len() < 6 && started.elapsed() < Duration::from_secs(10) {
            match http_status(balancer.port(), "/readyz") {
                Some(status) => answers.push(status),
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let ended = balancer.process().stop();
        std::fs::remove_dir_all(&dir)?;
        assert_eq!(answers, [200; 6], "haproxy ended: {ended:?}");
        Ok(())
    }
}
