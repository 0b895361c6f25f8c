//! `chat-bench`: the load generator behind `cargo xtask bench`. It mints its own tokens, speaks
//! REST and Socket.IO over WebSocket itself, loads only loopback targets, bounds every scenario
//! in time, prints one JSON line per scenario and appends a Markdown section to a file.

// Printing results to stdout is this tool's job.
#![allow(clippy::print_stdout)]

mod abuse;
mod args;
mod calibrate;
mod cluster_fanout;
mod delivery_audit;
mod fanout;
mod group_send;
mod history;
mod history_extras;
mod history_groups;
mod http;
mod idle;
mod reactions;
mod reconnect_storm;
mod recovering;
mod report;
mod rest_send;
mod route;
mod scheduled;
mod search;
mod socket;
mod stats;
mod storm_load;
mod throughput;
mod usage;
mod users;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::args::{Args, ClusterTarget, USAGE};
use crate::calibrate::Db;
use crate::report::{Outcome, RunInfo};
use crate::usage::{Machine, Meter};

/// What every scenario needs.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// The server.
    pub(crate) addr: SocketAddr,
    /// The secret tokens are signed with.
    pub(crate) secret: String,
    /// Short runs.
    pub(crate) quick: bool,
    /// C in transactions per second.
    pub(crate) calibration: Option<f64>,
    /// CPU and memory counters.
    pub(crate) meter: Meter,
    /// The database, to count stored messages.
    db: Option<Db>,
    /// The cluster of `cluster-fanout`, when given.
    pub(crate) cluster: Option<ClusterTarget>,
}

impl Ctx {
    /// How long a timed scenario sends: 30 s, or 5 s with `--quick`.
    pub(crate) fn duration(&self) -> Duration {
        Duration::from_secs(if self.quick { 5 } else { 30 })
    }

    /// Adds `stored` (messages PostgreSQL gained since it held `before`) and
    /// `acknowledged_missing` (sends acknowledged, `acknowledged` of them, that it lacks) to
    /// `details`, when the database is known.
    pub(crate) fn record_stored(
        &self,
        details: &mut serde_json::Map<String, serde_json::Value>,
        before: Option<u64>,
        acknowledged: u64,
    ) {
        if let (Some(before), Some(after)) = (before, self.stored_messages()) {
            let stored = after.saturating_sub(before);
            details.insert("stored".into(), stored.into());
            details.insert(
                "acknowledged_missing".into(),
                acknowledged.saturating_sub(stored).into(),
            );
        }
    }

    /// How many messages PostgreSQL holds, when a database URL was given.
    pub(crate) fn stored_messages(&self) -> Option<u64> {
        self.count("SELECT count(*) FROM chat.messages", "stored messages")
    }

    /// How many conversations PostgreSQL holds, when a database URL was given.
    pub(crate) fn stored_conversations(&self) -> Option<u64> {
        self.count("SELECT count(*) FROM chat.conversations", "conversations")
    }

    /// The number `sql` counts, when a database URL was given; `what` names it in errors.
    fn count(&self, sql: &str, what: &str) -> Option<u64> {
        let db = self.db.as_ref()?;
        match db.psql(sql) {
            Ok(count) => count.parse().ok(),
            Err(e) => {
                eprintln!("chat-bench: counting {what}: {e:#}");
                None
            }
        }
    }
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("chat-bench: {e:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("chat-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen scenarios and reports them.
async fn run(args: Args) -> Result<()> {
    let machine = Machine::detect();
    let mut notes = args.notes.clone();
    let calibration = match (args.calibration, &args.db) {
        (Some(c), _) => {
            notes.push("C: given with --calibration".to_owned());
            Some(c)
        }
        (None, Some(db)) => {
            let seconds = if args.quick { 10 } else { 30 };
            eprintln!("chat-bench: calibrating with pgbench for {seconds} s");
            let c = db.calibrate(seconds).context("calibration")?;
            notes.push(calibrate::describe(seconds));
            Some(c)
        }
        (None, None) => None,
    };
    let ctx = Ctx {
        addr: args.addr,
        secret: args.secret,
        quick: args.quick,
        calibration,
        meter: Meter::new(
            args.server_pid,
            args.db.as_ref().and_then(|db| args::url_port(&db.url)),
        ),
        db: args.db,
        cluster: args.cluster,
    };
    if let Some(c) = ctx.calibration {
        eprintln!("chat-bench: C = {c:.0} transactions/s");
        println!("{}", serde_json::json!({ "calibration_tps": c }));
    }
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut failure = None;
    for name in &args.scenarios {
        eprintln!("chat-bench: scenario {name}");
        let result = match name.as_str() {
            "rest-send" => rest_send::run(&ctx).await,
            "socket-throughput" => throughput::run(&ctx).await,
            "fanout" => fanout::run(&ctx).await,
            "group-fanout" => fanout::run_group(&ctx).await,
            "group-send" => group_send::run(&ctx).await,
            "idle-connections" => idle::run(&ctx).await,
            "history" => history::run(&ctx).await,
            "search" => search::run(&ctx).await,
            "scheduled" => scheduled::run(&ctx).await,
            "reactions" => reactions::run(&ctx).await,
            "abuse" => abuse::run(&ctx).await,
            "reconnect-storm" => reconnect_storm::run(&ctx).await,
            "cluster-fanout" => cluster_fanout::run(&ctx).await,
            other => Err(anyhow::anyhow!("unknown scenario {other}")),
        };
        match result {
            Ok(mut done) => {
                for o in &done {
                    eprintln!("chat-bench: {}", summary_line(o));
                    // A scenario that measured but found the server wrong says why in `fail`.
                    if let Some(reason) = o.details.get("fail").and_then(|r| r.as_str()) {
                        eprintln!("chat-bench: FAIL {}: {reason}", o.scenario);
                        failure.get_or_insert_with(|| anyhow::anyhow!("{}: {reason}", o.scenario));
                    }
                }
                outcomes.append(&mut done);
            }
            Err(e) => {
                eprintln!("chat-bench: scenario {name} failed: {e:#}");
                failure.get_or_insert(e.context(format!("scenario {name}")));
            }
        }
    }
    if failure.is_some() {
        notes.push("**some scenarios failed; see the command's output**".to_owned());
    }
    let run = RunInfo {
        at: chrono::Utc::now(),
        command: &args.command,
        machine: &machine,
        calibration: ctx.calibration,
        notes: &notes,
    };
    if let Some(path) = &args.markdown
        && !outcomes.is_empty()
    {
        report::append_markdown(path, &run, &outcomes)
            .with_context(|| format!("appending to {}", path.display()))?;
        eprintln!("chat-bench: results appended to {}", path.display());
    }
    if let Some(path) = &args.results
        && !outcomes.is_empty()
    {
        report::append_results(path, &run, &outcomes)?;
        eprintln!("chat-bench: results appended to {}", path.display());
    }
    failure.map_or(Ok(()), Err)
}

/// One human-readable line about an outcome.
fn summary_line(o: &Outcome) -> String {
    let rate = o
        .rate_per_s
        .map(|r| format!("{r:.0}/s, "))
        .unwrap_or_default();
    let ratio = o
        .ratio_to_c
        .map(|r| format!("{r:.2} C, "))
        .unwrap_or_default();
    format!(
        "{}: {rate}{ratio}p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} ok, {} errors",
        o.scenario, o.latency.p50_ms, o.latency.p99_ms, o.latency.max_ms, o.ok, o.errors
    )
}
