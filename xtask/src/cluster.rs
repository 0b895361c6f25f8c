//! `cargo xtask cluster [--nodes N]`: several chat-server nodes sharing one PostgreSQL and one
//! Redis, behind HAProxy, on this machine; Ctrl-C stops them all.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::balancer::Balancer;
use crate::ledger::Ledger;
use crate::net::{free_ports, ready};
use crate::pg::Cluster;
use crate::programs::{HAPROXY, REDIS_SERVER};
use crate::redis::Redis;
use crate::run::{build_server, dev_jwt_secret, throwaway_database};
use crate::service::Service;
use crate::signals::{Sig, Signals};
use crate::workspace::{Settings, require_c_toolchain, root, target_dir};

/// Nodes when `--nodes` is not given.
const DEFAULT_NODES: usize = 2;
/// The most nodes: each is a debug server with its pools and workers, on a developer machine.
const MAX_NODES: usize = 8;
/// How long a node may take to answer `/readyz` 200 (the first one runs the migrations).
const NODE_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long HAProxy may take to answer `/readyz` 200 once the nodes are ready (its checks run
/// every second).
const BALANCER_READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the running cluster is checked for a process that ended on its own.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// Parses `[--nodes N]` (also `--nodes=N`) into the number of nodes.
fn parse_nodes(args: &[String]) -> Result<usize> {
    const USAGE: &str = "usage: cargo xtask cluster [--nodes N]";
    let mut nodes = DEFAULT_NODES;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = match arg
            .strip_prefix("--nodes")
            .map(|rest| rest.strip_prefix('='))
        {
            Some(Some(inline)) => inline,
            Some(None) if arg == "--nodes" => args
                .next()
                .with_context(|| format!("--nodes needs a number; {USAGE}"))?,
            _ => bail!("cluster: unknown argument `{arg}`; {USAGE}"),
        };
        nodes = value
            .parse()
            .ok()
            .filter(|n| (1..=MAX_NODES).contains(n))
            .with_context(|| format!("--nodes takes 1 to {MAX_NODES}, not `{value}`"))?;
    }
    Ok(nodes)
}

/// Everything the cluster runs. The fields drop in declaration order, which is the order of
/// shutdown: the nodes (all told at once, so that they drain together), then HAProxy, Redis
/// and PostgreSQL, which the nodes need until they have stopped.
struct Running {
    /// The chat-server nodes, node 1 first.
    nodes: Vec<Node>,
    /// HAProxy, once started.
    balancer: Option<Balancer>,
    /// The throwaway Redis, unless REDIS_URL was configured.
    redis: Option<Redis>,
    /// The throwaway PostgreSQL, unless DATABASE_URL/DB_* was configured.
    pg: Option<Cluster>,
    /// The record of the above, removed once they have stopped.
    ledger: Ledger,
}

impl Drop for Running {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.process.terminate();
        }
    }
}

/// One chat-server node.
struct Node {
    /// Its number, from 1.
    n: usize,
    /// Its port on 127.0.0.1.
    port: u16,
    /// The process, its output in a log file.
    process: Service,
}

/// Runs the cluster until Ctrl-C or SIGTERM (exit 0) or until one of its processes ends on
/// its own (exit 1).
pub(crate) async fn cluster(args: &[String]) -> Result<u8> {
    let count = parse_nodes(args)?;
    let settings = Settings::load()?;
    require_c_toolchain()?;
    // Before a build of minutes: what else must be installed.
    HAPROXY.find()?;
    let redis_url = settings.get("REDIS_URL");
    if redis_url.is_none() {
        REDIS_SERVER.find()?;
    }
    let logs = target_dir().join("cluster");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let ledger = Ledger::claim(&logs)?;
    remove_node_logs(&logs);
    let mut signals = Signals::install()?;
    build_server(&mut signals).await?;
    let binary = target_dir().join("debug").join("chat-server");

    let mut running = Running {
        nodes: Vec::new(),
        balancer: None,
        redis: None,
        pg: throwaway_database(&settings)?,
        ledger,
    };
    let mut envs: Vec<(&str, String)> = Vec::new();
    if let Some(pg) = &running.pg {
        envs.push(("DATABASE_URL", pg.url("chat")));
    }
    if redis_url.is_some() {
        println!("==> using the configured Redis (REDIS_URL from the environment/.env)");
    } else {
        println!("==> no REDIS_URL set: starting a throwaway redis-server");
        let redis = running.redis.insert(Redis::start()?);
        running.ledger.created(redis.dir())?;
        if let Some(process) = redis.process() {
            running.ledger.started(process)?;
        }
        println!("    {}", redis.describe());
        println!("    REDIS_URL={}", redis.url());
        envs.push(("REDIS_URL", redis.url()));
    }
    if let Some(secret) = dev_jwt_secret(&settings)? {
        envs.push(("JWT_SECRET", secret));
    }
    // The balancer connects from 127.0.0.1: its X-Forwarded-For names the client.
    let proxies = settings
        .get("CHAT_TRUSTED_PROXIES")
        .map_or_else(|| "127.0.0.1".to_owned(), |own| format!("{own},127.0.0.1"));
    envs.push(("CHAT_TRUSTED_PROXIES", proxies));
    if settings.get("CHAT_HOST").is_none() {
        envs.push(("CHAT_HOST", "127.0.0.1".to_owned()));
    }
    if let Some(sig) = signals.pending().await {
        println!("xtask cluster: interrupted ({sig:?}) before the nodes started");
        return Ok(sig.exit_code());
    }

    let plural = if count == 1 { "" } else { "s" };
    println!(
        "==> starting {count} chat-server node{plural}, output in {}",
        logs.display()
    );
    let grace = node_grace(&settings);
    for (i, port) in free_ports(count)?.into_iter().enumerate() {
        let n = i + 1;
        let mut cmd = Command::new(&binary);
        // From the workspace root, like `cargo xtask run`: the nodes read its `.env`.
        cmd.current_dir(root())
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .env("PORT", port.to_string());
        let log = logs.join(format!("node{n}.log"));
        let process = Service::spawn(format!("node {n}"), cmd, &log, grace)?;
        running.ledger.started(&process)?;
        running.nodes.push(Node { n, port, process });
    }
    if let Some(sig) = wait_nodes_ready(&mut running.nodes, &mut signals).await? {
        println!("xtask cluster: interrupted ({sig:?}) before the nodes were ready");
        return Ok(sig.exit_code());
    }

    let ports: Vec<u16> = running.nodes.iter().map(|node| node.port).collect();
    let balancer = running.balancer.insert(Balancer::start(&logs, &ports)?);
    running.ledger.started(balancer.service())?;
    println!(
        "==> HAProxy with {}, its output in {}",
        balancer.config().display(),
        balancer.log().display()
    );
    if let Some(sig) = wait_balancer_ready(balancer, &mut signals).await? {
        println!("xtask cluster: interrupted ({sig:?}) before HAProxy was ready");
        return Ok(sig.exit_code());
    }

    println!("lb: http://127.0.0.1:{}", balancer.port());
    for node in &running.nodes {
        println!(
            "node {}: http://127.0.0.1:{}  (log: {})",
            node.n,
            node.port,
            node.process.log().display()
        );
    }
    println!("Ctrl-C stops the nodes, then HAProxy, Redis and PostgreSQL.");

    match watch(&mut running, &mut signals).await {
        Ok(sig) => {
            println!("==> {sig:?}: stopping the nodes, then HAProxy, Redis and PostgreSQL");
            drop(running);
            println!("==> cluster stopped");
            Ok(0)
        }
        Err((name, status, log)) => {
            eprintln!(
                "xtask cluster: {name} exited on its own ({status}); its log is {}. \
                 Stopping everything.",
                log.display()
            );
            drop(running);
            Ok(1)
        }
    }
}

/// Removes the node logs of an earlier run, so that none of a bigger cluster is mistaken for ours.
fn remove_node_logs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("node") && name.ends_with(".log") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// How long a node may drain after SIGTERM before it is killed: its own shutdown timeout
/// (`CHAT_SHUTDOWN_TIMEOUT_SECS`, default 30 s) and a margin.
fn node_grace(settings: &Settings) -> Duration {
    let drain = settings
        .get("CHAT_SHUTDOWN_TIMEOUT_SECS")
        .and_then(|secs| secs.parse().ok())
        .unwrap_or(30);
    Duration::from_secs(drain + 10)
}

/// Waits until every node answers `/readyz` 200; `Some` signal when interrupted meanwhile.
async fn wait_nodes_ready(nodes: &mut [Node], signals: &mut Signals) -> Result<Option<Sig>> {
    let started = Instant::now();
    let mut waiting: Vec<usize> = (0..nodes.len()).collect();
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for i in waiting {
            let Some(node) = nodes.get_mut(i) else {
                continue;
            };
            if ready(node.port) {
                continue;
            }
            if let Some(status) = node.process.exited() {
                bail!(
                    "node {} exited ({status}) before it was ready; its log is {}",
                    node.n,
                    node.process.log().display()
                );
            }
            if started.elapsed() > NODE_READY_TIMEOUT {
                bail!(
                    "node {} (http://127.0.0.1:{}) did not answer /readyz with 200 within {} s; \
                     its log is {}",
                    node.n,
                    node.port,
                    NODE_READY_TIMEOUT.as_secs(),
                    node.process.log().display()
                );
            }
            still.push(i);
        }
        waiting = still;
        if let Some(sig) = pause(signals).await {
            return Ok(Some(sig));
        }
    }
    Ok(None)
}

/// Waits until HAProxy answers `/readyz` 200 (a node is up behind it); `Some` signal when
/// interrupted meanwhile.
pub(crate) async fn wait_balancer_ready(
    balancer: &mut Balancer,
    signals: &mut Signals,
) -> Result<Option<Sig>> {
    let started = Instant::now();
    while !ready(balancer.port()) {
        if let Some(status) = balancer.process().exited() {
            bail!(
                "haproxy exited ({status}) before it answered; its log is {}",
                balancer.log().display()
            );
        }
        if started.elapsed() > BALANCER_READY_TIMEOUT {
            bail!(
                "HAProxy (http://127.0.0.1:{}) did not answer /readyz with 200 within {} s; \
                 its log is {}",
                balancer.port(),
                BALANCER_READY_TIMEOUT.as_secs(),
                balancer.log().display()
            );
        }
        if let Some(sig) = pause(signals).await {
            return Ok(Some(sig));
        }
    }
    Ok(None)
}

/// Sleeps a little, or less when a signal arrives (then returns it).
async fn pause(signals: &mut Signals) -> Option<Sig> {
    tokio::select! {
        sig = signals.next() => Some(sig),
        () = tokio::time::sleep(Duration::from_millis(200)) => None,
    }
}

/// Watches the running cluster: `Ok` with the signal that ends it, or `Err` with the name, exit
/// status and log of the process whose end ends it (the balancer, or the last node). A node
/// that ends while others run is reported and left down, as in production: its clients
/// reconnect through the balancer to the others, which is what the cluster is for.
async fn watch(
    running: &mut Running,
    signals: &mut Signals,
) -> Result<Sig, (String, ExitStatus, PathBuf)> {
    let mut down = vec![false; running.nodes.len()];
    loop {
        tokio::select! {
            sig = signals.next() => return Ok(sig),
            () = tokio::time::sleep(WATCH_INTERVAL) => {}
        }
        if let Some(balancer) = running.balancer.as_mut().map(Balancer::process)
            && let Some(status) = balancer.exited()
        {
            return Err((
                balancer.name().to_owned(),
                status,
                balancer.log().to_path_buf(),
            ));
        }
        for (node, down) in running.nodes.iter_mut().zip(down.iter_mut()) {
            let process = &mut node.process;
            if *down {
                continue;
            }
            if let Some(status) = process.exited() {
                *down = true;
                eprintln!(
                    "xtask cluster: {} exited ({status}); its log is {}. The balancer sends its \
                     clients to the other nodes.",
                    process.name(),
                    process.log().display()
                );
            }
        }
        if down.iter().all(|d| *d)
            && let Some(last) = running.nodes.last_mut()
        {
            let process = &mut last.process;
            let status = process.exited();
            if let Some(status) = status {
                return Err(("every node".to_owned(), status, process.log().to_path_buf()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_nodes;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_node_count() {
        assert_eq!(parse_nodes(&args(&[])).ok(), Some(2));
        assert_eq!(parse_nodes(&args(&["--nodes", "3"])).ok(), Some(3));
        assert_eq!(parse_nodes(&args(&["--nodes=8"])).ok(), Some(8));
        assert_eq!(parse_nodes(&args(&["--nodes", "1"])).ok(), Some(1));
        for bad in [
            &["--nodes", "0"][..],
            &["--nodes", "9"],
            &["--nodes", "two"],
            &["--nodes"],
            &["--nodesx"],
            &["extra"],
        ] {
            assert!(parse_nodes(&args(bad)).is_err(), "{bad:?} accepted");
        }
    }
}
