//! Project automation for the chat workspace: `cargo xtask run | cluster | test | pg | bench`.

// xtask is a command-line tool for developers: printing to stdout is its job.
#![allow(clippy::print_stdout)]

mod balancer;
mod bench;
mod bench_cluster;
mod bench_markdown;
mod bench_plot;
mod bench_results;
mod cluster;
mod ledger;
mod net;
mod pg;
mod pg_bin;
mod programs;
mod redis;
mod run;
mod service;
mod signals;
mod test;
mod workspace;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::pg::Cluster;
use crate::signals::Signals;

/// Shown for `cargo xtask`, `help` and unknown commands.
const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  run [server args]   build and run chat-server (port $PORT or 3010); starts a throwaway
                      PostgreSQL unless DATABASE_URL/DB_* is set, generates a dev JWT_SECRET if unset
  cluster [--nodes N] N chat-server nodes (default 2, at most 8) behind HAProxy, sharing one
                      PostgreSQL (as for run) and a throwaway redis-server unless REDIS_URL is set;
                      prints the balancer's and each node's URL, Ctrl-C stops everything
  test [test args]    cargo fmt --check, cargo clippy -D warnings, cargo test --workspace
                      (with CHAT_TEST_DATABASE_URL of a throwaway PostgreSQL); args go to cargo test;
                      stops first when redis-server or haproxy is not installed
  pg                  start a throwaway PostgreSQL, print its URLs, keep it until Ctrl-C
  bench [--quick] [--scenario NAME]...
                      build the release server and chat-bench, run the benchmark on a durable
                      throwaway PostgreSQL, append the results to docs/benchmarks.md and
                      docs/bench/results.jsonl, draw the charts in docs/bench/;
                      cluster-fanout (in the default run) also starts redis-server, 2 nodes, HAProxy
  bench --plot        draw the charts again from docs/bench/results.jsonl (runs nothing)
  bench --import-markdown
                      add the runs of docs/benchmarks.md that docs/bench/results.jsonl lacks, draw
  help                show this text";

/// The command line, parsed by hand (a few subcommands do not need clap).
#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    /// `run`, with the arguments for the server.
    Run(Vec<String>),
    /// `cluster`, with its options.
    Cluster(Vec<String>),
    /// `test`, with the arguments for `cargo test`.
    Test(Vec<String>),
    /// `pg`.
    Pg,
    /// `bench`, with its options.
    Bench(Vec<String>),
    /// `help`, `-h`, `--help`.
    Help,
    /// No command, an unknown one, or stray arguments: the message to show before the usage.
    Bad(String),
}

/// Splits the arguments after the binary name into a command and its pass-through arguments.
fn parse(mut args: impl Iterator<Item = String>) -> Cmd {
    let Some(command) = args.next() else {
        return Cmd::Bad("no command given".to_owned());
    };
    let rest: Vec<String> = args.collect();
    match command.as_str() {
        "run" => Cmd::Run(rest),
        "cluster" => Cmd::Cluster(rest),
        "test" => Cmd::Test(rest),
        "pg" if rest.is_empty() => Cmd::Pg,
        "pg" => Cmd::Bad(format!("`pg` takes no arguments (got {rest:?})")),
        "bench" => Cmd::Bench(rest),
        "help" | "-h" | "--help" => Cmd::Help,
        other => Cmd::Bad(format!("unknown command `{other}`")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = match parse(std::env::args().skip(1)) {
        Cmd::Run(args) => run::run(&args).await,
        Cmd::Cluster(args) => cluster::cluster(&args).await,
        Cmd::Test(args) => test::test(&args).await,
        Cmd::Pg => pg().await,
        Cmd::Bench(args) => bench::bench(&args).await,
        Cmd::Help => {
            // Ignore a closed pipe (`cargo xtask help | head`).
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            Ok(0)
        }
        Cmd::Bad(msg) => {
            eprintln!("xtask: {msg}\n\n{USAGE}");
            Ok(2)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask pg`: a throwaway cluster for manual work or running tests by hand.
async fn pg() -> Result<u8> {
    let mut signals = Signals::install()?;
    let cluster = Cluster::start()?;
    cluster.create_database("chat")?;
    println!("{}", cluster.describe());
    println!("admin URL: {}", cluster.admin_url());
    println!("export {}={}", test::TEST_DB_VAR, cluster.admin_url());
    println!("export DATABASE_URL={}", cluster.url("chat"));
    println!("Press Ctrl-C to stop PostgreSQL and delete its files.");
    let sig = signals.next().await;
    println!("xtask: {sig:?}, stopping PostgreSQL");
    drop(cluster);
    Ok(0) // Ctrl-C is the normal way to end `pg`
}

#[cfg(test)]
mod tests {
    use super::{Cmd, parse};

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            parse(args(&["run", "--x"])),
            Cmd::Run(vec!["--x".to_owned()])
        );
        assert_eq!(
            parse(args(&["test", "filter"])),
            Cmd::Test(vec!["filter".to_owned()])
        );
        assert_eq!(
            parse(args(&["cluster", "--nodes", "3"])),
            Cmd::Cluster(vec!["--nodes".to_owned(), "3".to_owned()])
        );
        assert_eq!(parse(args(&["pg"])), Cmd::Pg);
        assert_eq!(parse(args(&["--help"])), Cmd::Help);
        assert!(matches!(parse(args(&[])), Cmd::Bad(_)));
        assert!(matches!(parse(args(&["pg", "x"])), Cmd::Bad(_)));
        assert_eq!(
            parse(args(&["bench", "--quick"])),
            Cmd::Bench(vec!["--quick".to_owned()])
        );
        assert!(matches!(parse(args(&["nope"])), Cmd::Bad(_)));
    }
}
