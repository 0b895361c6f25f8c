//! `cargo xtask test`: the check suite (fmt, clippy, tests against a throwaway PostgreSQL), as a list of steps.

use std::time::Instant;

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::ChildStdout;

use crate::pg::Cluster;
use crate::programs::{CHROMIUM, HAPROXY, REDIS_SERVER};
use crate::signals::{Signals, exit_code, wait_child};
use crate::workspace::{cargo, root};

/// The variable through which tests get the admin URL of the throwaway cluster.
pub(crate) const TEST_DB_VAR: &str = "CHAT_TEST_DATABASE_URL";
/// The variable through which tests get the absolute path of redis-server.
const REDIS_VAR: &str = "CHAT_TEST_REDIS_SERVER";
/// The variable through which tests get the absolute path of haproxy.
const HAPROXY_VAR: &str = "CHAT_TEST_HAPROXY";
/// The variable through which tests get the absolute path of chromium.
const CHROMIUM_VAR: &str = "CHAT_TEST_CHROMIUM";

/// One check: a command run from the workspace root; the suite stops at the first failure.
#[derive(Debug)]
struct Step {
    /// What the header line shows.
    title: String,
    /// Program (`cargo` means the cargo that launched xtask) and its arguments.
    command: Vec<String>,
    /// Whether the step gets `CHAT_TEST_DATABASE_URL` (the cluster starts before the first such step).
    needs_db: bool,
    /// Whether the step's output carries libtest's `test result:` lines to add up.
    counts_tests: bool,
    /// Where the step runs, relative to the workspace root (the root itself when empty).
    dir: &'static str,
    /// What to install when the program is missing.
    install_hint: Option<&'static str>,
}

impl Step {
    /// A step without database.
    fn new(command: &[&str]) -> Self {
        Self {
            title: command.join(" "),
            command: command.iter().map(|s| (*s).to_owned()).collect(),
            needs_db: false,
            counts_tests: false,
            dir: "",
            install_hint: None,
        }
    }

    /// Runs the step in `dir` (relative to the workspace root).
    fn in_dir(mut self, dir: &'static str) -> Self {
        self.dir = dir;
        self.title = format!("{} (in {dir})", self.command.join(" "));
        self
    }

    /// Says what to install when the program is not found.
    fn needs(mut self, hint: &'static str) -> Self {
        self.install_hint = Some(hint);
        self
    }

    /// Marks the step as a libtest run whose results go into the closing tally.
    fn counting_tests(mut self) -> Self {
        self.counts_tests = true;
        self
    }

    /// Marks the step as needing the throwaway cluster.
    fn with_db(mut self) -> Self {
        self.needs_db = true;
        self
    }

    /// Appends extra arguments (e.g. the user's test filter).
    fn with_args(mut self, args: &[String]) -> Self {
        self.command.extend(args.iter().cloned());
        self.title = self.command.join(" ");
        self
    }
}

/// The suite, in order. Add new checks here (e.g. `Step::new(&["npm", "test"])`).
fn steps(test_args: &[String]) -> Vec<Step> {
    vec![
        Step::new(&["cargo", "fmt", "--all", "--check"]),
        Step::new(&[
            "cargo",
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        // The real socket.io-client from npm, pinned by the lock file, for the Node tests that
        // `cargo test` drives (crates/chat-server/tests/socketio_clients.rs).
        Step::new(&["npm", "ci", "--no-audit", "--no-fund"])
            .in_dir("crates/chat-server/tests/socketio")
            .needs("Node.js 18+ with npm: apt-get install -y nodejs npm (Debian/Ubuntu)"),
        // The client bundle the server serves and playwright-core for the web app's browser
        // test (crates/chat-server/tests/web.rs), pinned by web/package-lock.json.
        Step::new(&["npm", "ci", "--no-audit", "--no-fund"])
            .in_dir("web")
            .needs("Node.js 18+ with npm: apt-get install -y nodejs npm (Debian/Ubuntu)"),
        Step::new(&["cargo", "test", "--workspace"])
            .with_db()
            .counting_tests()
            .with_args(test_args),
    ]
}

/// Runs every step, stopping at the first failure; returns the exit code for xtask.
pub(crate) async fn test(test_args: &[String]) -> Result<u8> {
    let mut signals = Signals::install()?;
    crate::workspace::require_c_toolchain()?;
    // The cluster tests start their own redis-server and haproxy, the web app's test drives
    // chromium: stop now, with what to install, rather than after minutes of building.
    let programs = preflight()?;
    let steps = steps(test_args);
    let total = steps.len();
    let mut cluster: Option<Cluster> = None;
    let mut tests = Tally::default();
    let started = Instant::now();
    for (i, step) in steps.iter().enumerate() {
        println!("==> [{}/{total}] {}", i + 1, step.title);
        let t0 = Instant::now();
        let mut cmd = command(step);
        cmd.envs(programs.iter().map(|(var, path)| (var, path)));
        if step.needs_db {
            if cluster.is_none() {
                let c = Cluster::start()?;
                println!("    {}", c.describe());
                cluster = Some(c);
            }
            if let Some(c) = &cluster {
                cmd.env(TEST_DB_VAR, c.admin_url());
            }
        }
        if let Some(sig) = signals.pending().await {
            println!("xtask test: interrupted ({sig:?})");
            return Ok(sig.exit_code());
        }
        if step.counts_tests {
            cmd.stdout(Stdio::piped());
        }
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                if let (std::io::ErrorKind::NotFound, Some(hint)) = (e.kind(), step.install_hint) {
                    anyhow::bail!("`{}` is not installed; install {hint}", step.title);
                }
                return Err(e).with_context(|| format!("starting {}", step.title));
            }
        };
        let counting = child.stdout.take().map(|out| tokio::spawn(tally(out)));
        let (status, sig) = wait_child(&mut child, &mut signals).await?;
        if let Some(counting) = counting {
            let counted = counting.await.context("reading the test output")??;
            tests = tests.add(counted);
            // The plain closing line, so that a reader (or CI) sees the whole run at once.
            println!("tests: {} passed, {} failed", tests.passed, tests.failed);
        }
        if let Some(sig) = sig {
            println!("xtask test: interrupted ({sig:?}) during `{}`", step.title);
            return Ok(sig.exit_code());
        }
        if !status.success() {
            println!("xtask test: FAILED `{}` ({status})", step.title);
            return Ok(exit_code(status).max(1));
        }
        println!("    ok ({:.1}s)", t0.elapsed().as_secs_f64());
    }
    println!(
        "xtask test: all {total} steps passed ({:.1}s)",
        started.elapsed().as_secs_f64()
    );
    // Stop the cluster first, so that the tally is the run's closing line.
    drop(cluster);
    println!("tests: {} passed, {} failed", tests.passed, tests.failed);
    Ok(0)
}

/// The absolute paths of redis-server, haproxy and chromium, each with the variable that
/// passes it to the steps; when any is missing, what to install (all at once).
fn preflight() -> Result<[(&'static str, PathBuf); 3]> {
    match (REDIS_SERVER.find(), HAPROXY.find(), CHROMIUM.find()) {
        (Ok(redis), Ok(haproxy), Ok(chromium)) => Ok([
            (REDIS_VAR, redis),
            (HAPROXY_VAR, haproxy),
            (CHROMIUM_VAR, chromium),
        ]),
        (redis, haproxy, chromium) => {
            let missing: Vec<String> = [redis.err(), haproxy.err(), chromium.err()]
                .into_iter()
                .flatten()
                .map(|e| e.to_string())
                .collect();
            anyhow::bail!("{}", missing.join("\n"))
        }
    }
}

/// Passed and failed tests, added up over every libtest binary of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn add(self, other: Tally) -> Tally {
        Tally {
            passed: self.passed + other.passed,
            failed: self.failed + other.failed,
        }
    }

    /// Reads `test result: ok. 5 passed; 0 failed; ...` from one line, if it is one.
    fn parse(line: &str) -> Option<Tally> {
        let rest = line.trim().strip_prefix("test result: ")?;
        let (_, counts) = rest.split_once(". ")?;
        let mut tally = Tally::default();
        for part in counts.split(';') {
            match part.trim().split_once(' ') {
                Some((n, "passed")) => tally.passed = n.parse().ok()?,
                Some((n, "failed")) => tally.failed = n.parse().ok()?,
                _ => {}
            }
        }
        Some(tally)
    }
}

/// Echoes a test run's output while adding up its results.
async fn tally(out: ChildStdout) -> Result<Tally> {
    let mut lines = BufReader::new(out).lines();
    let mut total = Tally::default();
    while let Some(line) = lines.next_line().await? {
        println!("{line}");
        if let Some(counted) = Tally::parse(&line) {
            total = total.add(counted);
        }
    }
    Ok(total)
}

/// The process for `step`, run from the workspace root.
fn command(step: &Step) -> tokio::process::Command {
    let (program, args) = step
        .command
        .split_first()
        .map_or(("", &[][..]), |(p, a)| (p.as_str(), a));
    if program == "cargo" {
        cargo(args)
    } else {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).current_dir(root().join(step.dir));
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn tally_reads_libtest_result_lines() {
        let line = "test result: FAILED. 15 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.08s";
        assert_eq!(
            Tally::parse(line),
            Some(Tally {
                passed: 15,
                failed: 2
            })
        );
        assert_eq!(Tally::parse("running 17 tests"), None);
    }
}
