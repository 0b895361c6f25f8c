//! The record of what a running `cargo xtask cluster` started, so that the next one stops what
//! a killed one (SIGKILL, a closed terminal) left running, and two never share one log directory.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::pg::process_alive;
use crate::service::Service;

/// The ledger file in the cluster's directory; removed when the cluster stops.
const FILE: &str = "running";

/// This process's claim on a cluster directory; dropping it (after everything stopped) removes
/// the record.
#[derive(Debug)]
pub(crate) struct Ledger {
    /// The ledger file.
    path: PathBuf,
}

impl Ledger {
    /// Claims `dir`: stops the processes and removes the directories an earlier cluster whose
    /// xtask no longer runs left behind; fails when that xtask still runs.
    pub(crate) fn claim(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        if let Ok(text) = fs::read_to_string(&path) {
            let owner = text
                .lines()
                .find_map(|line| line.strip_prefix("owner ")?.parse::<u32>().ok());
            if let Some(owner) = owner.filter(|&pid| process_alive(pid)) {
                bail!(
                    "another `cargo xtask cluster` (pid {owner}) is running in {}; stop it first",
                    dir.display()
                );
            }
            reap(&text);
        }
        fs::write(&path, format!("owner {}\n", std::process::id()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Self { path })
    }

    /// Records a process we started.
    pub(crate) fn started(&self, service: &Service) -> Result<()> {
        self.append(&format!(
            "process {} {}",
            service.pid(),
            service.program().display()
        ))
    }

    /// Records a directory we created.
    pub(crate) fn created(&self, dir: &Path) -> Result<()> {
        self.append(&format!("dir {}", dir.display()))
    }

    /// Appends one line to the ledger file.
    fn append(&self, line: &str) -> Result<()> {
        OpenOptions::new()
            .append(true)
            .open(&self.path)
            .and_then(|mut file| writeln!(file, "{line}"))
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Kills (SIGKILL: nobody waits for them any more) the recorded processes that still run the
/// recorded program, then removes the recorded directories.
fn reap(text: &str) {
    let mut killed = Vec::new();
    for line in text.lines() {
        let Some((pid, program)) = line
            .strip_prefix("process ")
            .and_then(|rest| rest.split_once(' '))
        else {
            continue;
        };
        if runs(pid, Path::new(program)) {
            let _ = Command::new("kill")
                .args(["-KILL", pid])
                .stderr(Stdio::null())
                .status();
            killed.push(pid);
        }
    }
    let mut removed = Vec::new();
    for dir in text.lines().filter_map(|line| line.strip_prefix("dir ")) {
        if fs::remove_dir_all(dir).is_ok() {
            removed.push(dir);
        }
    }
    if !killed.is_empty() || !removed.is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "xtask: cleaned up after an earlier cluster: killed {killed:?}, removed {removed:?}"
        );
    }
}

/// Whether process `pid` runs `program` (and is not a zombie), so that a recycled pid is left
/// alone; a program rebuilt since shows as "PATH (deleted)".
fn runs(pid: &str, program: &Path) -> bool {
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    let Ok(exe) = fs::read_link(format!("/proc/{pid}/exe")) else {
        return false;
    };
    let program = program
        .canonicalize()
        .unwrap_or_else(|_| program.to_path_buf());
    process_alive(pid)
        && (exe == program
            || exe.as_os_str().to_string_lossy() == format!("{} (deleted)", program.display()))
}
