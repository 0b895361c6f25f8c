//! `chat-server`: reads the configuration, connects to PostgreSQL, serves until a shutdown
//! signal, and exits non-zero with a message naming the cause when it cannot start.
//! `chat-server import-sequelize` imports the Node service's data instead ([`chat_server::cli`]).

use std::process::ExitCode;

use chat_server::cli::{Command, USAGE};
use chat_server::{Application, Config, config, import, telemetry};

/// jemalloc, not the system allocator: glibc keeps the memory of a flood (argon2's 19 MiB per
/// password hash, thousands of stalled connections' buffers) in its per-thread arenas for the
/// life of the process, where jemalloc's background threads give freed pages back within
/// seconds, so memory after a flood returns to its level before it (`cargo xtask bench
/// --scenario abuse` measures it). mimalloc also gives memory back, but an idle socket cost
/// 27.7 KB under it against about 20 KB under glibc or jemalloc (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match Command::parse(&args) {
        Ok(Command::Help) => {
            eprintln!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(command) => command,
        Err(error) => {
            eprintln!("chat-server: {error}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    // Only the `.env` of the working directory, never one found in a parent; variables already
    // set in the environment win.
    if let Err(error) = dotenvy::from_path(".env")
        && !error.not_found()
    {
        eprintln!("chat-server: cannot read .env: {error}");
        return ExitCode::FAILURE;
    }
    let config = match Config::from_source(&config::environment()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("chat-server: invalid configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Import(args) = command {
        return import::run(args, &config).await;
    }
    telemetry::init(config.log_format);
    let database = chat_store_pg::redacted(&config.database.url);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, database, "start-up failed");
            eprintln!("chat-server: start-up failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port = app.port(), database, "chat-server listening");
    match app.run_until_stopped().await {
        Ok(()) => {
            tracing::info!("chat-server stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}
