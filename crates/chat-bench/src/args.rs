//! The command line, parsed by hand, and the loopback-only rule for every target.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::calibrate::Db;

/// The scenarios this tool knows, in the order they run by default.
pub(crate) const SCENARIOS: &[&str] = &[
    "rest-send",
    "group-send",
    "socket-throughput",
    "fanout",
    "group-fanout",
    "idle-connections",
    "history",
    "search",
    "scheduled",
    "reactions",
    "abuse",
    "reconnect-storm",
    "cluster-fanout",
];

/// Shown for `--help` and on bad arguments.
pub(crate) const USAGE: &str = "\
usage: chat-bench --url http://127.0.0.1:PORT [options]

  --url URL            the chat-server (loopback only)
  --secret SECRET      its HS256 JWT_SECRET (or the JWT_SECRET variable)
  --db-url URL         the server's database (loopback only): calibration and stored-message counts
  --pg-bin DIR         where psql and pgbench are (default: PATH)
  --server-pid PID     the server's process, for its CPU seconds and peak RSS
  --calibration C      C in transactions/s, instead of measuring it with pgbench
  --scenario NAME      rest-send | group-send | socket-throughput | fanout | group-fanout
                       | idle-connections | history | search | scheduled
                       | reactions | abuse (needs built-in
                       accounts on)
                       | reconnect-storm | cluster-fanout (needs --cluster-url)
                       (repeatable; default: all, cluster-fanout only with --cluster-url;
                       history, search and scheduled need --db-url)
  --cluster-url URL    the load balancer of a cluster of nodes sharing the server's database
                       (loopback only), its nodes pinned by the cookie CHATNODE=node1, node2, ...
  --node-pid PID       a node's process, in node order (repeatable), for their CPU seconds
  --redis-pid PID      the cluster's redis-server, for its CPU seconds
  --balancer-pid PID   the load balancer's process, for its CPU seconds
  --quick              a few seconds per scenario instead of 30
  --markdown PATH      append a results section to this file
  --results PATH       append one JSON line per result to this file (what the charts read)
  --command TEXT       the command line to record in the results
  --note TEXT          a line to record with the results (repeatable)";

/// Everything the tool was told.
#[derive(Debug)]
pub(crate) struct Args {
    /// The server's address (always loopback).
    pub(crate) addr: SocketAddr,
    /// The HS256 secret to sign tokens with.
    pub(crate) secret: String,
    /// The database and the client tools, for the calibration and stored-message counts.
    pub(crate) db: Option<Db>,
    /// The server's pid.
    pub(crate) server_pid: Option<u32>,
    /// C, PostgreSQL's ceiling in transactions per second.
    pub(crate) calibration: Option<f64>,
    /// The scenarios to run, in order.
    pub(crate) scenarios: Vec<String>,
    /// Short runs.
    pub(crate) quick: bool,
    /// Where to append the Markdown section.
    pub(crate) markdown: Option<PathBuf>,
    /// Where to append the results as JSON lines.
    pub(crate) results: Option<PathBuf>,
    /// The command line recorded with the results.
    pub(crate) command: String,
    /// Extra lines recorded with the results.
    pub(crate) notes: Vec<String>,
    /// The cluster of `cluster-fanout`, when given.
    pub(crate) cluster: Option<ClusterTarget>,
}

/// A cluster of nodes behind a load balancer, next to the server (for `cluster-fanout`).
#[derive(Debug, Clone)]
pub(crate) struct ClusterTarget {
    /// The balancer's address (always loopback).
    pub(crate) balancer: SocketAddr,
    /// The nodes' pids, node 1 first (node `n` is reached with the cookie `node{n}`).
    pub(crate) node_pids: Vec<u32>,
    /// redis-server's pid.
    pub(crate) redis_pid: Option<u32>,
    /// The balancer's pid.
    pub(crate) balancer_pid: Option<u32>,
}

impl Args {
    /// Parses the arguments after the program name; `Ok(None)` means `--help`.
    pub(crate) fn parse(args: impl Iterator<Item = String>) -> Result<Option<Self>> {
        let mut url = None;
        let mut secret = std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty());
        let (mut db_url, mut pg_bin) = (None, PathBuf::new());
        let (mut server_pid, mut calibration, mut markdown) = (None, None, None);
        let mut results = None;
        let (mut scenarios, mut notes) = (Vec::new(), Vec::new());
        let mut quick = false;
        let (mut cluster_url, mut node_pids) = (None, Vec::new());
        let (mut redis_pid, mut balancer_pid) = (None, None);
        let mut command = "chat-bench".to_owned();
        let mut args = args;
        while let Some(flag) = args.next() {
            let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--url" => url = Some(value()?),
                "--secret" => secret = Some(value()?),
                "--db-url" => db_url = Some(value()?),
                "--pg-bin" => pg_bin = PathBuf::from(value()?),
                "--server-pid" => server_pid = Some(value()?.parse().context("--server-pid")?),
                "--calibration" => calibration = Some(value()?.parse().context("--calibration")?),
                "--scenario" => scenarios.push(value()?),
                "--markdown" => markdown = Some(PathBuf::from(value()?)),
                "--results" => results = Some(PathBuf::from(value()?)),
                "--command" => command = value()?,
                "--note" => notes.push(value()?),
                "--cluster-url" => cluster_url = Some(value()?),
                "--node-pid" => node_pids.push(value()?.parse().context("--node-pid")?),
                "--redis-pid" => redis_pid = Some(value()?.parse().context("--redis-pid")?),
                "--balancer-pid" => {
                    balancer_pid = Some(value()?.parse().context("--balancer-pid")?);
                }
                "--quick" => quick = true,
                "-h" | "--help" => return Ok(None),
                other => bail!("unknown argument `{other}`"),
            }
        }
        let url = url.context("--url is required")?;
        let secret = secret.context("--secret or JWT_SECRET is required")?;
        for name in &scenarios {
            if !SCENARIOS.contains(&name.as_str()) {
                bail!(
                    "unknown scenario `{name}` (known: {})",
                    SCENARIOS.join(", ")
                );
            }
        }
        if scenarios.is_empty() {
            scenarios = SCENARIOS
                .iter()
                .filter(|s| cluster_url.is_some() || **s != "cluster-fanout")
                .map(|s| (*s).to_owned())
                .collect();
        }
        let cluster = match cluster_url {
            Some(url) => Some(ClusterTarget {
                balancer: http_target(&url).context("--cluster-url")?,
                node_pids,
                redis_pid,
                balancer_pid,
            }),
            None => None,
        };
        let db = match db_url {
            Some(db_url) => {
                loopback_host(&db_url).context("--db-url")?;
                Some(Db {
                    url: db_url,
                    bin: pg_bin,
                })
            }
            None => None,
        };
        Ok(Some(Self {
            addr: http_target(&url)?,
            secret,
            db,
            server_pid,
            calibration: calibration.filter(|c: &f64| c.is_finite() && *c > 0.0),
            scenarios,
            quick,
            markdown,
            results,
            command,
            notes,
            cluster,
        }))
    }
}

/// The socket address of an `http://host:port` URL, refused unless the host is loopback.
pub(crate) fn http_target(url: &str) -> Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("--url must start with http:// (got {url:?})"))?;
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        bail!("--url takes no path (got {url:?})");
    }
    let (host, port) = authority
        .rsplit_once(':')
        .with_context(|| format!("--url needs a port (got {url:?})"))?;
    let port: u16 = port
        .parse()
        .with_context(|| format!("bad port in {url:?}"))?;
    Ok(SocketAddr::new(loopback(host)?, port))
}

/// Checks that a `scheme://[user@]host[:port]/...` URL points at a loopback host.
pub(crate) fn loopback_host(url: &str) -> Result<IpAddr> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    loopback(host)
}

/// The port of a `scheme://[user@]host:port/...` URL.
pub(crate) fn url_port(url: &str) -> Option<u16> {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port.rsplit_once(':')?.1.parse().ok()
}

/// The address of `host` if it is a loopback name or address; anything else is refused.
fn loopback(host: &str) -> Result<IpAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse::<IpAddr>()
            .with_context(|| format!("target host {host:?} is not an IP address or localhost"))?
    };
    if !ip.is_loopback() {
        bail!("refusing target {ip}: chat-bench only loads loopback addresses (127.0.0.0/8, ::1)");
    }
    Ok(ip)
}

#[cfg(test)]
mod tests {
    use super::{http_target, loopback_host, url_port};

    #[test]
    fn accepts_only_loopback_targets() {
        assert_eq!(
            http_target("http://127.0.0.1:3010").unwrap().to_string(),
            "127.0.0.1:3010"
        );
        assert!(http_target("http://localhost:80/").is_ok());
        assert!(http_target("http://[::1]:80").is_ok());
        assert!(http_target("http://10.0.0.1:3010").is_err());
        assert!(http_target("http://example.com:3010").is_err());
        assert!(http_target("https://127.0.0.1:3010").is_err());
        assert!(http_target("http://127.0.0.1:3010/api").is_err());
        assert!(loopback_host("postgres://postgres@127.0.0.1:5544/postgres").is_ok());
        assert!(loopback_host("postgres://u:p@192.168.1.2:5432/db").is_err());
        assert_eq!(
            url_port("postgres://postgres@127.0.0.1:5544/chat"),
            Some(5544)
        );
    }
}
