//! `chat-server import-sequelize`: runs [`chat_store_pg::import`] against the server's own
//! database with a progress bar on the terminal, stops between batches on Ctrl-C, and prints
//! the summary. The source URL is only ever shown with its password masked.

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chat_store_pg::import::{
    BatchDone, ImportError, ImportOptions, ImportProgress, Phase, import_sequelize,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Config;

/// The import's command line.
#[derive(Clone, PartialEq, Eq)]
pub struct ImportArgs {
    /// The Node service's database URL (with its password: never printed as it is).
    pub from: String,
    /// Report what would change, write nothing.
    pub dry_run: bool,
    /// Rows per transaction.
    pub batch_size: usize,
    /// The host's users table, when not `users` or `Users`.
    pub users_table: Option<String>,
}

impl std::fmt::Debug for ImportArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportArgs")
            .field("from", &chat_store_pg::redacted(&self.from))
            .field("dry_run", &self.dry_run)
            .field("batch_size", &self.batch_size)
            .field("users_table", &self.users_table)
            .finish()
    }
}

/// Exit status of a run stopped by Ctrl-C between batches (128 + SIGINT, as shells report).
const INTERRUPTED: u8 = 130;

/// Runs the import into the database `config` names, and says how it went.
pub async fn run(args: ImportArgs, config: &Config) -> ExitCode {
    let options = ImportOptions {
        batch_size: args.batch_size,
        dry_run: args.dry_run,
        users_table: args.users_table.clone(),
        limits: config.policy.limits.clone(),
    };
    eprintln!(
        "Importing from {} into {} (schema {}){}",
        chat_store_pg::redacted(&args.from),
        chat_store_pg::redacted(&config.database.url),
        config.database.schema,
        if args.dry_run { ", dry run" } else { "" }
    );
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::Relaxed);
        }
    });
    let mut bars = Bars {
        bar: None,
        interrupted,
    };
    let outcome = import_sequelize(&args.from, &config.database, &options, &mut bars).await;
    watcher.abort();
    bars.finish();
    match outcome {
        Ok(summary) => {
            // A closed stdout leaves nothing to report to.
            let _ = write!(std::io::stdout().lock(), "{summary}");
            if summary.complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(INTERRUPTED)
            }
        }
        Err(error) => {
            eprintln!(
                "chat-server: import failed: {}",
                scrubbed(&error, &args.from)
            );
            if matches!(error, ImportError::Source(_) | ImportError::Target(_)) {
                eprintln!(
                    "Nothing of the batch in progress was written; the same command continues from there."
                );
            }
            ExitCode::FAILURE
        }
    }
}

/// The error's text with the URL's password masked, should a driver ever repeat it.
fn scrubbed(error: &ImportError, url: &str) -> String {
    let text = error.to_string();
    match password(url) {
        Some(secret) if !secret.is_empty() => text.replace(secret, "***"),
        _ => text,
    }
}

/// The password of a `postgres://user:password@host/...` URL.
fn password(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo.split_once(':').map(|(_, p)| p)
}

/// One progress bar per phase, on stderr when it is a terminal (hidden otherwise).
struct Bars {
    bar: Option<ProgressBar>,
    interrupted: Arc<AtomicBool>,
}

impl Bars {
    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

impl ImportProgress for Bars {
    fn phase_started(&mut self, phase: Phase, total: u64) {
        self.finish();
        let style = ProgressStyle::with_template(
            "{prefix:>13} [{bar:40}] {human_pos}/{human_len} in {elapsed} ({eta} left)",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::new(total)
            .with_style(style)
            .with_prefix(phase.name());
        self.bar = Some(bar);
    }

    fn batch_done(&mut self, batch: BatchDone) -> ControlFlow<()> {
        if let Some(bar) = &self.bar {
            bar.inc(batch.read);
        }
        if self.interrupted.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_show_the_source_password() {
        let url = "postgres://node:s3cret@db:5432/app";
        assert_eq!(password(url), Some("s3cret"));
        assert_eq!(password("postgres://node@db/app"), None);
        let error = ImportError::Source("auth failed for s3cret".to_owned());
        assert!(!scrubbed(&error, url).contains("s3cret"));
        let args = ImportArgs {
            from: url.to_owned(),
            dry_run: false,
            batch_size: 1,
            users_table: None,
        };
        assert!(!format!("{args:?}").contains("s3cret"));
    }
}
