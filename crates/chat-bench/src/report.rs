//! Results: one JSON line per scenario on stdout, a Markdown section appended to a file, and
//! the same results as JSON lines appended to another (with the run's date, command and C on
//! each line), which `cargo xtask bench` draws its charts from.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::stats::Summary;
use crate::usage::{Machine, Usage};

/// The result of one scenario (or one step of it, such as rest-send with 16 clients).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Outcome {
    /// Scenario name with its size, e.g. `rest-send/16`.
    pub(crate) scenario: String,
    /// Seconds of measured load.
    pub(crate) duration_s: f64,
    /// Successful operations (requests answered 201, deliveries, ...).
    pub(crate) ok: u64,
    /// Failed operations.
    pub(crate) errors: u64,
    /// Operations per second, when the scenario measures a rate.
    pub(crate) rate_per_s: Option<f64>,
    /// `rate_per_s` divided by C.
    pub(crate) ratio_to_c: Option<f64>,
    /// The latency that matters for this scenario (request latency; delivery to the last socket).
    pub(crate) latency: Summary,
    /// What the scenario cost.
    pub(crate) usage: Usage,
    /// Further numbers and remarks, specific to the scenario.
    pub(crate) details: serde_json::Map<String, serde_json::Value>,
}

impl Outcome {
    /// Prints the outcome as one JSON line.
    pub(crate) fn print_json(&self) -> Result<()> {
        let line = serde_json::to_string(self)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
        Ok(())
    }
}

/// What the Markdown section says about the run as a whole.
#[derive(Debug)]
pub(crate) struct RunInfo<'a> {
    /// When the results were written (the section's title, each JSON line's `at`).
    pub(crate) at: chrono::DateTime<chrono::Utc>,
    /// The command that was run.
    pub(crate) command: &'a str,
    /// The machine.
    pub(crate) machine: &'a Machine,
    /// C in transactions per second.
    pub(crate) calibration: Option<f64>,
    /// Extra lines (settings of the server and the cluster, ...).
    pub(crate) notes: &'a [String],
}

/// Appends a section with the run's numbers to `path` (created with a title when missing).
pub(crate) fn append_markdown(path: &Path, run: &RunInfo<'_>, outcomes: &[Outcome]) -> Result<()> {
    let mut text = String::new();
    let date = run.at.format("%Y-%m-%d %H:%M UTC");
    let _ = writeln!(text, "\n### {date}: `{}`\n", run.command);
    let m = run.machine;
    let _ = writeln!(
        text,
        "- machine: {} cores, {}, {:.1} GiB memory, Linux {}, open-files limit {}",
        m.cores,
        m.cpu,
        m.memory_gib,
        m.kernel,
        m.open_files_limit
            .map_or_else(|| "unknown".to_owned(), |n| n.to_string())
    );
    match run.calibration {
        Some(c) => {
            let _ = writeln!(text, "- **C = {c:.0} transactions/s**");
        }
        None => {
            let _ = writeln!(text, "- C: not measured (ratios left out)");
        }
    }
    for note in run.notes {
        let _ = writeln!(text, "- {note}");
    }
    text.push_str(
        "\n| scenario | ok | errors | rate/s | x C | p50 ms | p99 ms | max ms | server CPU s | \
         server peak RSS MiB | PostgreSQL CPU s | tool CPU s | machine busy core-s | wall s |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for o in outcomes {
        let u = &o.usage;
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {:.1} |",
            o.scenario,
            o.ok,
            o.errors,
            opt(o.rate_per_s, 0),
            opt(o.ratio_to_c, 2),
            o.latency.p50_ms,
            o.latency.p99_ms,
            o.latency.max_ms,
            opt(u.server_cpu_s, 2),
            opt(u.server_peak_rss_kib.map(|k| k as f64 / 1024.0), 1),
            opt(u.postgres_cpu_s, 2),
            opt(u.tool_cpu_s, 2),
            opt(u.machine_busy_core_s, 2),
            u.wall_s,
        );
    }
    let details: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.details.is_empty())
        .map(|o| {
            let pairs: Vec<String> = o.details.iter().map(|(k, v)| format!("{k} {v}")).collect();
            format!("- {}: {}", o.scenario, pairs.join(", "))
        })
        .collect();
    if !details.is_empty() {
        let _ = writeln!(text, "\n{}", details.join("\n"));
    }
    let exists = path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    if !exists {
        file.write_all(b"# Benchmarks\n\n## Results\n")?;
    }
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// One line of the results file: the run it belongs to, then the outcome's own fields.
#[derive(Debug, Serialize)]
struct ResultLine<'a> {
    /// When the run wrote its results, to the minute (`2026-12-01T01:41Z`): with `command`,
    /// what names the run (the Markdown section's title says the same).
    at: String,
    /// The command that was run.
    command: &'a str,
    /// C in transactions per second, when measured.
    calibration_tps: Option<f64>,
    /// The outcome.
    #[serde(flatten)]
    outcome: &'a Outcome,
}

/// Appends one JSON line per outcome to `path` (created, with its directory, when missing).
pub(crate) fn append_results(path: &Path, run: &RunInfo<'_>, outcomes: &[Outcome]) -> Result<()> {
    let at = run.at.format("%Y-%m-%dT%H:%MZ").to_string();
    let mut text = String::new();
    for outcome in outcomes {
        let line = ResultLine {
            at: at.clone(),
            command: run.command,
            calibration_tps: run.calibration,
            outcome,
        };
        text.push_str(&serde_json::to_string(&line)?);
        text.push('\n');
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .with_context(|| format!("appending to {}", path.display()))
}

/// A number with `digits` decimals, or a dash.
fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}
