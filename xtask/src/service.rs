//! A background process xtask started (redis-server, haproxy, a chat-server node): stopped with
//! SIGTERM, then SIGKILL, when dropped, so that no error path leaves one running.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// A running child process whose output goes to a log file.
#[derive(Debug)]
pub(crate) struct Service {
    /// What messages call it ("redis-server", "node 2").
    name: String,
    /// The program it runs.
    program: PathBuf,
    /// The process.
    child: Child,
    /// Where its stdout and stderr go.
    log: PathBuf,
    /// How long it may take to exit after SIGTERM before it gets SIGKILL.
    grace: Duration,
}

impl Service {
    /// Starts `cmd` with stdout and stderr appended to `log` (created or truncated), in a
    /// process group of its own: the terminal's Ctrl-C reaches xtask alone, which then stops
    /// its services in order (nodes before the balancer and the stores they need).
    pub(crate) fn spawn(
        name: impl Into<String>,
        mut cmd: Command,
        log: &Path,
        grace: Duration,
    ) -> Result<Self> {
        let name = name.into();
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out
            .try_clone()
            .with_context(|| format!("opening {} twice", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let program = PathBuf::from(cmd.get_program());
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({})", program.display()))?;
        Ok(Self {
            name,
            program,
            child,
            log: log.to_path_buf(),
            grace,
        })
    }

    /// The name messages use.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The program it runs.
    pub(crate) fn program(&self) -> &Path {
        &self.program
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log file.
    pub(crate) fn log(&self) -> &Path {
        &self.log
    }

    /// The exit status if the process has ended (reaping it), `None` while it runs.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Asks the process to stop (SIGTERM) without waiting; a no-op once it has exited.
    pub(crate) fn terminate(&mut self) {
        if self.exited().is_none() {
            // `kill`, since unsafe libc calls are forbidden in this workspace.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Stops the process: SIGTERM, up to the grace period to exit, then SIGKILL; returns how
    /// it ended (`None` if it could not be reaped).
    pub(crate) fn stop(&mut self) -> Option<ExitStatus> {
        self.terminate();
        let until = Instant::now() + self.grace;
        while Instant::now() < until {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}
