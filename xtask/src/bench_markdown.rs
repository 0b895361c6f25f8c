//! Reading the results back from docs/benchmarks.md, for the runs made before chat-bench
//! wrote JSON lines: each `### DATE: \`COMMAND\`` section's C, its table (named by its
//! header, which changed over time) and its detail lines (`- SCENARIO: key value, ...`, each
//! value in JSON).

use std::collections::HashSet;
use std::io::Write;

use anyhow::{Context, Result};

use crate::bench_results::{self, Latency, RESULTS, Record};
use crate::workspace::root;

/// Appends the runs of docs/benchmarks.md that the results file lacks.
pub(crate) fn import() -> Result<()> {
    let markdown_path = root().join("docs/benchmarks.md");
    let markdown = std::fs::read_to_string(&markdown_path)
        .with_context(|| format!("reading {}", markdown_path.display()))?;
    let results = root().join(RESULTS);
    let missing = missing_from(&markdown, &bench_results::read(&results)?);
    if let Some(dir) = results.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let lines = to_lines(&missing)?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&results)
        .and_then(|mut file| file.write_all(lines.as_bytes()))
        .with_context(|| format!("appending to {}", results.display()))?;
    println!(
        "==> {} results imported from docs/benchmarks.md into {RESULTS}",
        missing.len()
    );
    Ok(())
}

/// The records of every results section of `markdown`, in the order they appear.
pub(crate) fn records(markdown: &str) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    // The current section: its run and where its records start.
    let mut run: Option<(String, String, Option<f64>)> = None;
    let mut first = 0;
    let mut header: Vec<String> = Vec::new();
    for line in markdown.lines() {
        if let Some((at, command)) = section(line) {
            run = Some((at, command, None));
            first = records.len();
            header.clear();
            continue;
        }
        let Some((at, command, calibration)) = run.as_mut() else {
            continue;
        };
        if let Some(c) = line
            .strip_prefix("- **C = ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|c| c.parse().ok())
        {
            *calibration = Some(c);
        } else if let Some(cells) = row(line) {
            if cells.first().map(String::as_str) == Some("scenario") {
                header = cells;
            } else if !header.is_empty() && !cells.iter().all(|c| c.starts_with("---")) {
                records.extend(table_record(&header, &cells, at, command, *calibration));
            }
        } else if let Some((scenario, details)) =
            line.strip_prefix("- ").and_then(|l| l.split_once(": "))
            && let Some(record) = records[first..].iter_mut().find(|r| r.scenario == scenario)
        {
            record.details = parse_details(details);
        }
    }
    records
}

/// The records of `markdown` whose runs `known` lacks (by date and command).
pub(crate) fn missing_from(markdown: &str, known: &[Record]) -> Vec<Record> {
    let runs: HashSet<(&str, &str)> = known
        .iter()
        .map(|r| (r.at.as_str(), r.command.as_str()))
        .collect();
    records(markdown)
        .into_iter()
        .filter(|r| !runs.contains(&(r.at.as_str(), r.command.as_str())))
        .collect()
}

/// The records as JSON lines.
pub(crate) fn to_lines(records: &[Record]) -> Result<String> {
    let mut text = String::new();
    for record in records {
        text.push_str(&serde_json::to_string(record)?);
        text.push('\n');
    }
    Ok(text)
}

/// `### 2026-11-30 18:08 UTC: \`cargo xtask bench\`` as (`2026-11-30T18:08Z`, the command).
fn section(line: &str) -> Option<(String, String)> {
    let (date, command) = line.strip_prefix("### ")?.split_once(" UTC: ")?;
    let command = command.trim().strip_prefix('`')?.strip_suffix('`')?;
    let (day, time) = date.split_once(' ')?;
    Some((format!("{day}T{time}Z"), command.to_owned()))
}

/// The cells of a table row, trimmed.
fn row(line: &str) -> Option<Vec<String>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    Some(inner.split('|').map(|c| c.trim().to_owned()).collect())
}

/// A table row as a record, its columns found by the header's names.
fn table_record(
    header: &[String],
    cells: &[String],
    at: &str,
    command: &str,
    calibration: Option<f64>,
) -> Option<Record> {
    let cell = |name: &str| {
        let i = header.iter().position(|h| h == name)?;
        cells.get(i).map(String::as_str)
    };
    let number = |name: &str| cell(name).and_then(|v| v.parse::<f64>().ok());
    Some(Record {
        at: at.to_owned(),
        command: command.to_owned(),
        calibration_tps: calibration,
        scenario: cell("scenario")?.to_owned(),
        ok: cell("ok").and_then(|v| v.parse().ok()).unwrap_or(0),
        errors: cell("errors").and_then(|v| v.parse().ok()).unwrap_or(0),
        rate_per_s: number("rate/s"),
        latency: Latency {
            p50_ms: number("p50 ms")?,
            p99_ms: number("p99 ms")?,
            max_ms: number("max ms").unwrap_or(0.0),
        },
        details: serde_json::Map::new(),
    })
}

/// `key value, key value`, each value in JSON (a string where it is not).
fn parse_details(mut text: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut details = serde_json::Map::new();
    while let Some((key, rest)) = text.split_once(' ') {
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
        let (value, used) = match values.next() {
            Some(Ok(value)) => (value, values.byte_offset()),
            _ => {
                let end = rest.find(", ").unwrap_or(rest.len());
                (serde_json::Value::String(rest[..end].to_owned()), end)
            }
        };
        details.insert(key.to_owned(), value);
        match rest[used..].strip_prefix(", ") {
            Some(next) => text = next,
            None => break,
        }
    }
    details
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    const MARKDOWN: &str = r#"# Benchmarks

## Results

### 2026-11-25 05:56 UTC: `cargo xtask bench --quick`

- machine: 2 cores, AMD EPYC, 23.5 GiB memory
- **C = 8540 transactions/s**

| scenario | ok | errors | rate/s | x C | p50 ms | p99 ms | max ms | server CPU s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
| rest-send/16 | 7397 | 0 | 1477 | 0.17 | 10.90 | 18.90 | 68.93 | 2.19 |
| fanout/1000 | 10000 | 0 | - | - | 15.54 | 22.07 | 22.07 | 1.48 |

- rest-send/16: acknowledged_missing 0, clients 16, stored 7397

### 2026-11-30 18:08 UTC: `cargo xtask bench --scenario socket-throughput`

- **C = 8968 transactions/s**

| scenario | ok | errors | rate/s | x C | p50 ms | p99 ms | max ms | server CPU s | PostgreSQL CPU s |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| socket-throughput | 107650 | 0 | 10762 | 1.20 | 3.96 | 93.43 | 108.43 | 3.47 | 8.35 |

- socket-throughput: pairs 50, steps [{"delivered":9000,"missing":0,"p50_ms":1.704,"p99_ms":3.304,"target_per_s":897.0}], stopped "1.5 C failed (p99 947.3 ms)", open_files_limit {"server":20000,"tool":20000}, target_per_s 10762.0
"#;

    #[test]
    fn sections_tables_and_details_become_records() {
        let records = records(MARKDOWN);
        assert_eq!(records.len(), 3);
        let rest = &records[0];
        assert_eq!(
            (rest.at.as_str(), rest.command.as_str()),
            ("2026-11-25T05:56Z", "cargo xtask bench --quick")
        );
        assert_eq!(rest.calibration_tps, Some(8540.0));
        assert_eq!(
            (rest.ok, rest.errors, rest.rate_per_s),
            (7397, 0, Some(1477.0))
        );
        assert_eq!(
            (
                rest.latency.p50_ms,
                rest.latency.p99_ms,
                rest.latency.max_ms
            ),
            (10.9, 18.9, 68.93)
        );
        assert_eq!(rest.details["clients"], json!(16));
        assert_eq!(records[1].rate_per_s, None, "a dash is no rate");
        assert!(records[1].details.is_empty());

        let ramp = &records[2];
        assert_eq!(ramp.calibration_tps, Some(8968.0));
        assert_eq!(
            ramp.latency.p99_ms, 93.43,
            "found by the header, whatever the columns"
        );
        assert_eq!(ramp.details["steps"][0]["p99_ms"], json!(3.304));
        assert_eq!(
            ramp.details["stopped"],
            json!("1.5 C failed (p99 947.3 ms)")
        );
        assert_eq!(ramp.details["open_files_limit"]["tool"], json!(20000));
        assert_eq!(ramp.details["target_per_s"], json!(10762.0));
    }

    #[test]
    fn only_the_runs_the_results_lack_are_imported_again() {
        let all = records(MARKDOWN);
        assert_eq!(missing_from(MARKDOWN, &[]).len(), 3);
        let missing = missing_from(MARKDOWN, &all[2..]);
        assert_eq!(missing, all[..2].to_vec());
        let lines = to_lines(&missing).unwrap();
        assert_eq!(crate::bench_results::parse(&lines).unwrap(), missing);
    }

    #[test]
    fn details_that_are_not_json_are_kept_as_text() {
        let details = parse_details("note went well, clients 4");
        assert_eq!(details["note"], json!("went well"));
        assert_eq!(details["clients"], json!(4));
    }
}
