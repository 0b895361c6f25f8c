//! `cargo xtask bench`: builds the release server and chat-bench, starts a durable throwaway
//! PostgreSQL and the server on loopback, runs chat-bench (which calibrates with pgbench from
//! the cluster's bin directory and appends the results to docs/benchmarks.md), and stops
//! everything again, also on error or Ctrl-C. With `cluster-fanout` among the scenarios it
//! also runs a cluster next to that server (see `bench_cluster.rs`). chat-bench also appends
//! its results to docs/bench/results.jsonl, from which the charts beside docs/benchmarks.md
//! are drawn again after each run (`--plot` only draws them; `--import-markdown` adds the runs
//! of docs/benchmarks.md that the results file lacks).

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench_cluster::BenchCluster;
use crate::pg::{Cluster, DURABLE_SETTINGS};
use crate::programs::{HAPROXY, REDIS_SERVER};
use crate::signals::{Signals, exit_code, wait_child};
use crate::workspace::{cargo, root, target_dir};

/// The per-user send rate given to the server, far above what the scenarios reach.
const SEND_RATE: u32 = 1_000_000;
/// How long chat-bench may run before it is killed.
const BENCH_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// The scenario that needs a cluster (Redis, two nodes, HAProxy) besides the server.
const CLUSTER_SCENARIO: &str = "cluster-fanout";

/// What `cargo xtask bench` was asked.
#[derive(Debug, Default)]
struct Options {
    /// `--quick`.
    quick: bool,
    /// `--plot`: draw the charts from the results file, run nothing.
    plot: bool,
    /// `--import-markdown`: add the runs of docs/benchmarks.md the results file lacks, then draw.
    import_markdown: bool,
    /// `--scenario NAME`, repeatable.
    scenarios: Vec<String>,
}

impl Options {
    /// Parses `[--quick] [--scenario NAME]...`.
    fn parse(args: &[String]) -> Result<Self> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--plot" => options.plot = true,
                "--import-markdown" => options.import_markdown = true,
                "--scenario" => options
                    .scenarios
                    .push(args.next().context("--scenario needs a name")?.clone()),
                other => bail!(
                    "bench: unknown argument `{other}` (usage: bench [--quick] [--scenario NAME]... | bench --plot | bench --import-markdown)"
                ),
            }
        }
        Ok(options)
    }

    /// Whether the run includes `cluster-fanout` (every scenario does, by default).
    fn wants_cluster(&self) -> bool {
        self.scenarios.is_empty() || self.scenarios.iter().any(|s| s == CLUSTER_SCENARIO)
    }

    /// The command line, as recorded with the results.
    fn command(&self) -> String {
        let mut command = "cargo xtask bench".to_owned();
        if self.quick {
            command.push_str(" --quick");
        }
        for s in &self.scenarios {
            command.push_str(" --scenario ");
            command.push_str(s);
        }
        command
    }
}

/// Runs the benchmark; returns the exit code.
pub(crate) async fn bench(args: &[String]) -> Result<u8> {
    let options = Options::parse(args)?;
    if options.import_markdown {
        crate::bench_markdown::import()?;
    }
    if options.plot || options.import_markdown {
        crate::bench_plot::redraw()?;
        return Ok(0);
    }
    crate::workspace::require_c_toolchain()?;
    if options.wants_cluster() {
        // Before a build of minutes: what else must be installed.
        REDIS_SERVER.find()?;
        HAPROXY.find()?;
    }
    let mut signals = Signals::install()?;
    println!("==> building chat-server and chat-bench (release)");
    let mut build = cargo([
        "build",
        "--release",
        "--quiet",
        "-p",
        "chat-server",
        "-p",
        "chat-bench",
    ])
    .spawn()
    .context("starting cargo build")?;
    let (status, _) = wait_child(&mut build, &mut signals).await?;
    if !status.success() {
        bail!("building chat-server and chat-bench failed ({status})");
    }
    let release = target_dir().join("release");
    let work = target_dir().join("bench");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;

    println!("==> starting a durable throwaway PostgreSQL");
    let cluster = Cluster::start_durable()?;
    cluster.create_database("chat")?;
    println!("    {}", cluster.describe());
    let secret = random_hex(32)?;
    let mut server = Server::start(
        &release.join("chat-server"),
        &work,
        "server",
        &cluster.url("chat"),
        &secret,
        &[],
    )?;
    println!(
        "==> chat-server (pid {}) on http://127.0.0.1:{}",
        server.pid(),
        server.port
    );
    server.wait_ready(&mut signals).await?;
    let nodes = if options.wants_cluster() {
        Some(
            BenchCluster::start(
                &release.join("chat-server"),
                &work,
                &cluster.url("chat"),
                &secret,
                &mut signals,
            )
            .await?,
        )
    } else {
        None
    };

    // pgbench and psql for chat-bench's calibration: next to initdb.
    let pg_bin = Path::new(cluster.client("pgbench").get_program())
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut notes = vec![
        cluster
            .describe()
            .split(" on ")
            .next()
            .unwrap_or_default()
            .to_owned(),
        format!(
            "PostgreSQL settings: `{}`",
            DURABLE_SETTINGS
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
        format!(
            "server: release build, CHAT_SEND_RATE_PER_SEC={SEND_RATE}, CHAT_SEND_BURST={SEND_RATE}, LOG_FORMAT=json, RUST_LOG=warn, other settings default{}",
            user_settings()
        ),
    ];
    if let Some(nodes) = &nodes {
        notes.push(nodes.describe());
    }
    if options.quick {
        notes.push(
            "`--quick`: 5 s rest-send runs, 3 s throughput steps, 2,000 idle sockets held 5 s, a storm of 500 sockets: noisier than a full run"
                .to_owned(),
        );
    }
    let mut tool = tokio::process::Command::new(release.join("chat-bench"));
    tool.args(["--url", &format!("http://127.0.0.1:{}", server.port)])
        .args(["--db-url", &cluster.url("chat")])
        .arg("--pg-bin")
        .arg(&pg_bin)
        .args(["--server-pid", &server.pid().to_string()])
        .arg("--markdown")
        .arg(root().join("docs/benchmarks.md"))
        .arg("--results")
        .arg(root().join(crate::bench_results::RESULTS))
        .args(["--command", &options.command()])
        .env("JWT_SECRET", &secret)
        .kill_on_drop(true);
    for note in &notes {
        tool.args(["--note", note]);
    }
    if let Some(nodes) = &nodes {
        tool.args(nodes.bench_args());
    }
    if options.quick {
        tool.arg("--quick");
    }
    for s in &options.scenarios {
        tool.args(["--scenario", s]);
    }
    println!("==> running chat-bench");
    let mut child = tool.spawn().context("starting chat-bench")?;
    let status =
        match tokio::time::timeout(BENCH_TIMEOUT, wait_child(&mut child, &mut signals)).await {
            Ok(waited) => waited?.0,
            Err(_) => {
                let _ = child.start_kill();
                bail!("chat-bench did not finish within {BENCH_TIMEOUT:?}");
            }
        };
    println!("==> chat-bench exited ({status}); stopping the server and PostgreSQL");
    drop(nodes);
    drop(server);
    drop(cluster);
    crate::bench_plot::redraw()?;
    Ok(exit_code(status))
}

/// The release chat-server, stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    /// The process.
    child: Child,
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    /// Where its output goes.
    log: PathBuf,
}

impl Server {
    /// Starts `binary` against `database` on a free loopback port, in its own process group
    /// (Ctrl-C reaches the bench tool; we stop the server ourselves, before PostgreSQL), its
    /// output in `work/NAME.log`; `extra` settings come on top of the bench's (without them
    /// the server has no `REDIS_URL`, whatever the environment says: the in-process bus).
    pub(crate) fn start(
        binary: &Path,
        work: &Path,
        name: &str,
        database: &str,
        secret: &str,
        extra: &[(&str, String)],
    ) -> Result<Self> {
        let port = crate::net::free_port()?;
        let log = work.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = Command::new(binary);
        for var in [
            "DB_NAME",
            "DB_HOST",
            "DB_PORT",
            "DB_USERNAME",
            "DB_PASSWORD",
            "JWT_PUBLIC_KEY",
            "JWT_PUBLIC_KEY_FILE",
            "JWT_ALGORITHM",
            "REDIS_URL",
        ] {
            cmd.env_remove(var);
        }
        let rate = SEND_RATE.to_string();
        cmd.envs([
            ("DATABASE_URL", database),
            ("JWT_SECRET", secret),
            ("PORT", &port.to_string()),
            ("CHAT_HOST", "127.0.0.1"),
            ("CHAT_BUILTIN_ACCOUNTS", "true"),
            ("CHAT_SEND_RATE_PER_SEC", &rate),
            ("CHAT_SEND_BURST", &rate),
            ("CHAT_SHUTDOWN_TIMEOUT_SECS", "5"),
            // Every benchmark client comes from 127.0.0.1, and the idle scenario holds 190
            // devices per user: the abuse caps would refuse them.
            ("CHAT_MAX_CONNECTIONS_PER_IP", "1000000"),
            ("CHAT_MAX_SOCKETS_PER_USER", "100000"),
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "warn"),
        ]);
        cmd.envs(extra.iter().map(|(k, v)| (k, v)));
        // Run where no developer's .env is read.
        cmd.current_dir(work)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self { child, port, log })
    }

    /// The server's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200 (at most a minute).
    pub(crate) async fn wait_ready(&mut self, signals: &mut Signals) -> Result<()> {
        let started = Instant::now();
        loop {
            if crate::net::ready(self.port) {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                bail!("chat-server exited ({status}); see {}", self.log.display());
            }
            if let Some(sig) = signals.pending().await {
                bail!("interrupted ({sig:?}) while waiting for the server");
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the server was not ready after 60 s; see {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let until = Instant::now() + Duration::from_secs(15);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// CHAT_* settings the developer set in the environment (they reach the server), for the record.
fn user_settings() -> String {
    let set: Vec<String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("CHAT_") && !k.contains("TOKEN"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if set.is_empty() {
        String::new()
    } else {
        format!(" except {}", set.join(", "))
    }
}

/// `n` random bytes from /dev/urandom as lowercase hex.
fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
