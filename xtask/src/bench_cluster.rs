//! The cluster `cargo xtask bench` runs for `cluster-fanout`, next to the bench's server: a
//! throwaway redis-server, two nodes of the same release server on the same database with
//! `REDIS_URL`, and HAProxy in front of them (`deploy/haproxy.cfg`, as `cargo xtask cluster`
//! writes it). The pieces are `cargo xtask cluster`'s; the nodes are started like the bench's
//! server, so that the two buses are compared on the same settings.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::balancer::Balancer;
use crate::bench::Server;
use crate::cluster::wait_balancer_ready;
use crate::programs::{HAPROXY, Program, REDIS_SERVER};
use crate::redis::Redis;
use crate::signals::Signals;

/// Nodes of the cluster: the two.
const NODES: usize = 2;

/// The running cluster. The fields drop in declaration order, which is the order of shutdown:
/// the nodes, then HAProxy, then Redis, which the nodes need until they have stopped.
pub(crate) struct BenchCluster {
    /// The nodes, node 1 first (HAProxy's cookie `node1`, ...).
    nodes: Vec<Server>,
    /// HAProxy.
    balancer: Balancer,
    /// redis-server.
    redis: Redis,
}

impl BenchCluster {
    /// Starts Redis, the nodes (each ready before the next starts), then HAProxy, and waits
    /// until HAProxy answers `/readyz`; their output goes to `work`.
    pub(crate) async fn start(
        binary: &Path,
        work: &Path,
        database: &str,
        secret: &str,
        signals: &mut Signals,
    ) -> Result<Self> {
        println!("==> cluster for cluster-fanout: redis-server, {NODES} nodes, HAProxy");
        let redis = Redis::start()?;
        println!("    {}", redis.describe());
        let settings = [
            ("REDIS_URL", redis.url()),
            // The balancer connects from 127.0.0.1: its X-Forwarded-For names the client.
            ("CHAT_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ];
        let mut nodes = Vec::with_capacity(NODES);
        for n in 1..=NODES {
            let mut node = Server::start(
                binary,
                work,
                &format!("node{n}"),
                database,
                secret,
                &settings,
            )?;
            node.wait_ready(signals).await?;
            println!(
                "    node {n} (pid {}) on http://127.0.0.1:{}",
                node.pid(),
                node.port
            );
            nodes.push(node);
        }
        let ports: Vec<u16> = nodes.iter().map(|node| node.port).collect();
        let mut balancer = Balancer::start(work, &ports)?;
        if let Some(sig) = wait_balancer_ready(&mut balancer, signals).await? {
            bail!("interrupted ({sig:?}) while waiting for HAProxy");
        }
        println!(
            "    HAProxy (pid {}) on http://127.0.0.1:{}",
            balancer.service().pid(),
            balancer.port()
        );
        Ok(Self {
            nodes,
            balancer,
            redis,
        })
    }

    /// chat-bench's arguments for the cluster: the balancer, the nodes', Redis's and
    /// HAProxy's pids.
    pub(crate) fn bench_args(&self) -> Vec<String> {
        let mut args = vec![
            "--cluster-url".to_owned(),
            format!("http://127.0.0.1:{}", self.balancer.port()),
        ];
        for node in &self.nodes {
            args.push("--node-pid".to_owned());
            args.push(node.pid().to_string());
        }
        if let Some(redis) = self.redis.process() {
            args.push("--redis-pid".to_owned());
            args.push(redis.pid().to_string());
        }
        args.push("--balancer-pid".to_owned());
        args.push(self.balancer.service().pid().to_string());
        args
    }

    /// One line for the results: what the cluster ran.
    pub(crate) fn describe(&self) -> String {
        format!(
            "cluster-fanout: {NODES} nodes (the same release build and settings as the server, \
             with REDIS_URL and CHAT_TRUSTED_PROXIES=127.0.0.1) on the same PostgreSQL, a \
             throwaway {} (no persistence), {} with deploy/haproxy.cfg",
            version(REDIS_SERVER, "--version"),
            version(HAPROXY, "-v"),
        )
    }
}

/// The first words of `program flag` that name its version (`redis-server 7.0.15`), or the
/// program's name alone.
fn version(program: Program, flag: &str) -> String {
    let output = program
        .find()
        .ok()
        .and_then(|path| Command::new(path).arg(flag).output().ok());
    let text = output
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let first = text.lines().next().unwrap_or_default();
    // "Redis server v=7.0.15 sha=..." and "HAProxy version 2.8.5-1ubuntu3 2024/04/01 - ..."
    let number = first.split_whitespace().find_map(|w| {
        w.strip_prefix("v=")
            .or(w.chars().next()?.is_ascii_digit().then_some(w))
    });
    number.map_or_else(
        || program.name.to_owned(),
        |v| format!("{} {v}", program.name),
    )
}
