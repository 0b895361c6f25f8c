//! The benchmark's results as data: `docs/bench/results.jsonl` (one JSON line per result,
//! appended by chat-bench's `--results`, runs named by their date and command), and the
//! series the charts draw from it.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Where chat-bench appends its results as JSON lines, relative to the workspace root.
pub(crate) const RESULTS: &str = "docs/bench/results.jsonl";

/// A step of socket-throughput passes at this p99 or below (chat-bench's `P99_LIMIT_MS`).
pub(crate) const P99_LIMIT_MS: f64 = 100.0;

/// One result line; chat-bench writes more fields (usage, duration), which the charts do not
/// need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// When the run wrote its results, to the minute (`2026-12-01T01:41Z`).
    pub(crate) at: String,
    /// The command that was run.
    pub(crate) command: String,
    /// C in transactions per second, when measured.
    #[serde(default)]
    pub(crate) calibration_tps: Option<f64>,
    /// Scenario name with its size (`socket-throughput`, `history/1m/first-page`).
    pub(crate) scenario: String,
    /// Successful operations.
    #[serde(default)]
    pub(crate) ok: u64,
    /// Failed operations.
    #[serde(default)]
    pub(crate) errors: u64,
    /// Operations per second, when the scenario measures a rate.
    #[serde(default)]
    pub(crate) rate_per_s: Option<f64>,
    /// The scenario's latency.
    pub(crate) latency: Latency,
    /// The scenario's own numbers (socket-throughput's `steps`, ...).
    #[serde(default)]
    pub(crate) details: serde_json::Map<String, serde_json::Value>,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Latency {
    /// Median.
    pub(crate) p50_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// Largest.
    pub(crate) max_ms: f64,
}

impl Record {
    /// Whether the record comes from a `--quick` run (short, noisy, smaller sizes).
    fn quick(&self) -> bool {
        self.command.split_whitespace().any(|arg| arg == "--quick")
    }

    /// Whether `other` comes from the same run.
    fn same_run(&self, other: &Record) -> bool {
        self.at == other.at && self.command == other.command
    }

    /// The run, for a chart's title: `2026-12-01 01:41 UTC, cargo xtask bench --scenario history`.
    pub(crate) fn run_title(&self) -> String {
        let at = self.at.replacen('T', " ", 1);
        let at = at.strip_suffix('Z').unwrap_or(&at);
        format!("{at} UTC, {}", self.command)
    }
}

/// Reads a results file; a missing file holds no results.
pub(crate) fn read(path: &Path) -> Result<Vec<Record>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    parse(&text).with_context(|| format!("reading {}", path.display()))
}

/// The records of a results file's text, blank lines skipped.
pub(crate) fn parse(text: &str) -> Result<Vec<Record>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("line {}", i + 1)))
        .collect()
}

/// The records of the latest run that has any record `wanted` picks (the latest full run when
/// there is one: a `--quick` run is the fallback), those records only.
fn latest_run(records: &[Record], wanted: impl Fn(&Record) -> bool) -> Vec<&Record> {
    let last = records
        .iter()
        .rev()
        .find(|r| wanted(r) && !r.quick())
        .or_else(|| records.iter().rev().find(|r| wanted(r)));
    let Some(last) = last else {
        return Vec::new();
    };
    records
        .iter()
        .filter(|r| r.same_run(last) && wanted(r))
        .collect()
}

/// socket-throughput's ramp: latency at each offered rate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Throughput {
    /// The run, for the title.
    pub(crate) run: String,
    /// C of that run, in transactions per second.
    pub(crate) calibration_tps: Option<f64>,
    /// The steps, in the order they ran (rising rates).
    pub(crate) steps: Vec<Step>,
}

/// One rate of the ramp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Step {
    /// Offered rate, messages per second.
    pub(crate) rate: f64,
    /// Delivery latency, median, in ms.
    pub(crate) p50_ms: f64,
    /// Delivery latency, 99th percentile, in ms.
    pub(crate) p99_ms: f64,
    /// Whether the step passed (p99 within the limit, nothing missing or refused).
    pub(crate) passed: bool,
}

/// The ramp of the latest socket-throughput run, if any recorded its steps.
pub(crate) fn throughput(records: &[Record]) -> Option<Throughput> {
    let has_steps =
        |r: &Record| r.scenario == "socket-throughput" && r.details.contains_key("steps");
    let record = *latest_run(records, has_steps).last()?;
    let steps = record.details.get("steps")?.as_array()?;
    let number = |step: &serde_json::Value, key: &str| step.get(key).and_then(|v| v.as_f64());
    let steps = steps
        .iter()
        .filter_map(|step| {
            let (p50_ms, p99_ms) = (number(step, "p50_ms")?, number(step, "p99_ms")?);
            let lost =
                number(step, "missing").unwrap_or(0.0) + number(step, "refused").unwrap_or(0.0);
            Some(Step {
                rate: number(step, "target_per_s")?,
                p50_ms,
                p99_ms,
                passed: lost == 0.0 && p99_ms <= P99_LIMIT_MS,
            })
        })
        .collect();
    Some(Throughput {
        run: record.run_title(),
        calibration_tps: record.calibration_tps,
        steps,
    })
}

/// history's queries: p99 at each size of stored history.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct History {
    /// The run, for the title.
    pub(crate) run: String,
    /// One series per query, in the order the run measured them.
    pub(crate) queries: Vec<Query>,
}

/// One query's p99 by size.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    /// The query's name (`first-page`, `group-unread-count`, ...).
    pub(crate) name: String,
    /// (messages stored, p99 in ms), smallest size first.
    pub(crate) points: Vec<(f64, f64)>,
}

/// The queries of the latest history run, if any.
pub(crate) fn history(records: &[Record]) -> Option<History> {
    let run = latest_run(records, |r| r.scenario.starts_with("history/"));
    let first = run.first()?;
    let mut queries: Vec<Query> = Vec::new();
    for record in &run {
        let mut parts = record.scenario.splitn(3, '/').skip(1);
        let (Some(size), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(messages) = size_in_messages(size) else {
            continue;
        };
        let point = (messages, record.latency.p99_ms);
        match queries.iter_mut().find(|q| q.name == name) {
            Some(query) => query.points.push(point),
            None => queries.push(Query {
                name: name.to_owned(),
                points: vec![point],
            }),
        }
    }
    for query in &mut queries {
        query.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Some(History {
        run: first.run_title(),
        queries,
    })
}

/// A size label of history (`10k`, `100k`, `1m`) as a number of messages.
fn size_in_messages(label: &str) -> Option<f64> {
    let (digits, scale) = match label.as_bytes().last()? {
        b'k' => (&label[..label.len() - 1], 1e3),
        b'm' => (&label[..label.len() - 1], 1e6),
        _ => (label, 1.0),
    };
    digits.parse::<f64>().ok().map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn line(at: &str, command: &str, scenario: &str, p99: f64, details: &str) -> String {
        format!(
            r#"{{"at":"{at}","command":"{command}","calibration_tps":3000.0,"scenario":"{scenario}","duration_s":2.0,"ok":10,"errors":0,"rate_per_s":null,"ratio_to_c":null,"latency":{{"count":10,"p50_ms":1.0,"p99_ms":{p99},"max_ms":9.0,"mean_ms":1.5}},"usage":{{"wall_s":2.0}},"details":{details}}}"#
        )
    }

    const STEPS: &str = r#"{"pairs":50,"steps":[{"delivered":900,"missing":0,"p50_ms":1.7,"p99_ms":3.3,"refused":0,"sent":900,"target_per_s":897.0},{"delivered":1000,"missing":0,"p50_ms":3.9,"p99_ms":101.0,"refused":0,"sent":1000,"target_per_s":1345.0},{"delivered":500,"missing":500,"p50_ms":7.0,"p99_ms":47.3,"refused":2,"sent":1000,"target_per_s":1794.0}]}"#;

    #[test]
    fn the_ramp_comes_from_the_latest_full_run_with_its_passes() {
        let text = [
            line(
                "2026-11-30T02:07Z",
                "cargo xtask bench",
                "socket-throughput",
                1.0,
                STEPS,
            ),
            String::new(),
            line(
                "2026-11-30T03:00Z",
                "cargo xtask bench",
                "rest-send/16",
                1.0,
                "{}",
            ),
            line(
                "2026-11-30T04:00Z",
                "cargo xtask bench --quick",
                "socket-throughput",
                1.0,
                r#"{"steps":[{"p50_ms":1.0,"p99_ms":2.0,"target_per_s":10.0}]}"#,
            ),
        ]
        .join("\n");
        let records = parse(&text).unwrap();
        let ramp = throughput(&records).unwrap();
        assert_eq!(ramp.run, "2026-11-30 02:07 UTC, cargo xtask bench");
        assert_eq!(ramp.calibration_tps, Some(3000.0));
        let rates: Vec<f64> = ramp.steps.iter().map(|s| s.rate).collect();
        assert_eq!(rates, [897.0, 1345.0, 1794.0]);
        let passed: Vec<bool> = ramp.steps.iter().map(|s| s.passed).collect();
        assert_eq!(passed, [true, false, false], "p99 over 100 ms, then losses");
        assert_eq!(ramp.steps[2].p50_ms, 7.0);

        // Only quick runs: the latest of them.
        let quick =
            parse(&text.replace("cargo xtask bench\"", "cargo xtask bench --quick\"")).unwrap();
        assert_eq!(throughput(&quick).unwrap().steps.len(), 1);
        assert_eq!(throughput(&records[1..2]), None);
    }

    #[test]
    fn history_gives_one_series_per_query_ordered_by_size() {
        let run = |at: &str| {
            [
                line(
                    at,
                    "cargo xtask bench --scenario history",
                    "history/10k/first-page",
                    3.1,
                    "{}",
                ),
                line(
                    at,
                    "cargo xtask bench --scenario history",
                    "history/10k/unread-count",
                    1.7,
                    "{}",
                ),
                line(
                    at,
                    "cargo xtask bench --scenario history",
                    "history/1m/first-page",
                    5.4,
                    "{}",
                ),
                line(
                    at,
                    "cargo xtask bench --scenario history",
                    "history/1m/unread-count",
                    3.0,
                    "{}",
                ),
            ]
            .join("\n")
        };
        let text = format!(
            "{}\n{}\n{}",
            run("2026-12-01T01:34Z"),
            run("2026-12-01T01:41Z").replace("3.1", "3.15"),
            line(
                "2026-12-01T02:00Z",
                "cargo xtask bench --quick",
                "history/100k/first-page",
                2.0,
                "{}"
            ),
        );
        let history = history(&parse(&text).unwrap()).unwrap();
        assert_eq!(
            history.run,
            "2026-12-01 01:41 UTC, cargo xtask bench --scenario history"
        );
        let names: Vec<&str> = history.queries.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["first-page", "unread-count"]);
        assert_eq!(
            history.queries[0].points,
            [(10_000.0, 3.15), (1_000_000.0, 5.4)]
        );
        assert_eq!(
            history.queries[1].points,
            [(10_000.0, 1.7), (1_000_000.0, 3.0)]
        );
    }

    #[test]
    fn size_labels_read_as_message_counts() {
        assert_eq!(size_in_messages("10k"), Some(10_000.0));
        assert_eq!(size_in_messages("100k"), Some(100_000.0));
        assert_eq!(size_in_messages("1m"), Some(1_000_000.0));
        assert_eq!(size_in_messages("250"), Some(250.0));
        assert_eq!(size_in_messages("k"), None);
        assert_eq!(size_in_messages(""), None);
    }

    #[test]
    fn a_bad_line_is_named() {
        let error = parse("{}\n").unwrap_err();
        assert!(format!("{error:#}").contains("line 1"), "{error:#}");
        assert_eq!(
            read(Path::new("/nonexistent/results.jsonl")).unwrap(),
            Vec::new()
        );
    }
}
