//! Locating the system programs the tests need (redis-server and haproxy for a cluster,
//! chromium for the web app), and saying what to install when one is missing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};

use crate::pg_bin::is_root;

/// A program from a Debian/Ubuntu package.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Program {
    /// The executable's file name.
    pub(crate) name: &'static str,
    /// The package that installs it.
    package: &'static str,
}

/// The Redis server: the event bus between nodes (throwaway instances only).
pub(crate) const REDIS_SERVER: Program = Program {
    name: "redis-server",
    package: "redis-server",
};

/// HAProxy: the load balancer in front of the nodes.
pub(crate) const HAPROXY: Program = Program {
    name: "haproxy",
    package: "haproxy",
};

/// Chromium: the headless browser the web app's test drives (through playwright-core).
pub(crate) const CHROMIUM: Program = Program {
    name: "chromium",
    package: "chromium",
};

/// Where packages put daemons; a non-root user's PATH (and a minimal root one) often lacks it.
const SBIN: &str = "/usr/sbin";

impl Program {
    /// The absolute path of the program: the first one in a `PATH` directory, else the one in
    /// /usr/sbin; the install message when there is neither.
    pub(crate) fn find(self) -> Result<PathBuf> {
        let on_path = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .map(|dir| dir.join(self.name));
        on_path
            .chain(std::iter::once(Path::new(SBIN).join(self.name)))
            .find(|candidate| is_executable(candidate))
            .map(|found| std::path::absolute(&found).unwrap_or(found))
            .ok_or_else(|| self.not_installed())
    }

    /// What to install, worded like the PostgreSQL message (`sudo` unless we are root).
    fn not_installed(self) -> anyhow::Error {
        let sudo = if is_root().unwrap_or(false) {
            ""
        } else {
            "sudo "
        };
        anyhow!(
            "{} is not installed: on Debian/Ubuntu run {sudo}apt-get install -y {}",
            self.name,
            self.package
        )
    }
}

/// Whether `path` is a file someone may execute.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::Program;

    #[test]
    fn a_missing_program_names_its_package() {
        let missing = Program {
            name: "chat-no-such-program",
            package: "chat-no-such-package",
        };
        let message = missing
            .find()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.starts_with("chat-no-such-program is not installed: on Debian/Ubuntu run ")
                && message.ends_with("apt-get install -y chat-no-such-package"),
            "{message}"
        );
    }
}
