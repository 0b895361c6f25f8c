//! SIGINT/SIGTERM handling, so xtask outlives its children and can always clean up.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::process::Child;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// Which termination signal xtask received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sig {
    /// SIGINT: Ctrl-C in the terminal, which also reached our children (same process group).
    Interrupt,
    /// SIGTERM: sent to xtask alone (e.g. by a supervisor); we forward it to the child.
    Terminate,
}

impl Sig {
    /// The conventional exit code after this signal (128 + signal number).
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Sig::Interrupt => 130,
            Sig::Terminate => 143,
        }
    }
}

/// Our SIGINT/SIGTERM handlers; once installed, these signals no longer kill xtask.
#[derive(Debug)]
pub(crate) struct Signals {
    /// SIGINT stream.
    interrupt: Signal,
    /// SIGTERM stream.
    terminate: Signal,
}

impl Signals {
    /// Installs the handlers; do this before starting anything that needs cleanup.
    pub(crate) fn install() -> Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            terminate: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        })
    }

    /// Waits for the next SIGINT or SIGTERM.
    pub(crate) async fn next(&mut self) -> Sig {
        tokio::select! {
            Some(()) = self.interrupt.recv() => Sig::Interrupt,
            Some(()) = self.terminate.recv() => Sig::Terminate,
            else => std::future::pending().await,
        }
    }

    /// A signal that already arrived (e.g. while we were blocked starting PostgreSQL), if any.
    pub(crate) async fn pending(&mut self) -> Option<Sig> {
        tokio::time::timeout(Duration::from_millis(1), self.next())
            .await
            .ok()
    }
}

/// Waits for `child`, sending it SIGTERM on our SIGINT or SIGTERM; returns its status and the last signal we got.
pub(crate) async fn wait_child(
    child: &mut Child,
    signals: &mut Signals,
) -> Result<(ExitStatus, Option<Sig>)> {
    let mut seen = None;
    loop {
        tokio::select! {
            status = child.wait() => {
                return Ok((status.context("waiting for the child process")?, seen));
            }
            sig = signals.next() => {
                seen = Some(sig);
                // A Ctrl-C in the terminal reached the child too; a SIGINT sent to xtask alone
                // (a script, an IDE's stop button) did not: either way the child is told to
                // stop gracefully, which a second request does not disturb.
                forward_term(child).await;
            }
        }
    }
}

/// Sends SIGTERM to `child` and its descendants (e.g. the test binary under `cargo test`) with
/// `kill`, since unsafe libc calls are forbidden in this workspace.
async fn forward_term(child: &Child) {
    let Some(pid) = child.id() else {
        return; // already exited
    };
    let mut pids = vec![pid];
    pids.extend(descendants(pid));
    eprintln!("xtask: SIGTERM, forwarding it to {pids:?}");
    let sent = tokio::process::Command::new("kill")
        .arg("-TERM")
        .args(pids.iter().map(u32::to_string))
        .status()
        .await;
    if let Err(e) = sent {
        eprintln!("xtask: could not run kill -TERM {pid}: {e}");
    }
}

/// All descendants of `root`, from the parent pids in /proc/*/stat (empty without /proc).
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

/// The exit code to pass on for `status` (128 + signal number when killed by a signal).
pub(crate) fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(1),
        (None, None) => 1,
    }
}
