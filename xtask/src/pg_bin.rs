//! Locating the PostgreSQL binaries and running them as the `postgres` user when we are root.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The directory holding initdb/pg_ctl, plus whether server tools must be run through `runuser`.
#[derive(Debug, Clone)]
pub(crate) struct PgBin {
    /// Directory with initdb, pg_ctl, postgres (and usually createdb/psql).
    dir: PathBuf,
    /// True when we run as root: initdb/pg_ctl refuse root, so they run as `postgres`.
    as_postgres: bool,
}

impl PgBin {
    /// Finds the binaries (PG_BIN, then `initdb` on PATH, then the newest /usr/lib/postgresql/*/bin).
    pub(crate) fn find() -> Result<Self> {
        let dir = find_dir().ok_or_else(not_found)?;
        if !dir.join("initdb").is_file() {
            bail!("PG_BIN={} has no initdb; {:#}", dir.display(), not_found());
        }
        if !dir.join("pg_ctl").is_file() {
            bail!("found initdb in {} but no pg_ctl next to it", dir.display());
        }
        let as_postgres = is_root()?;
        if as_postgres {
            ensure_postgres_user()?;
        }
        Ok(Self { dir, as_postgres })
    }

    /// The directory the binaries were found in (for messages).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when files handed to the server must be owned by the `postgres` user.
    pub(crate) fn as_postgres(&self) -> bool {
        self.as_postgres
    }

    /// A command for a server tool (initdb, pg_ctl), run as `postgres` when we are root.
    pub(crate) fn server(&self, tool: &str, cwd: &Path) -> Command {
        let path = self.dir.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args([OsStr::new("-u"), OsStr::new("postgres"), OsStr::new("--")]);
            c.arg(path);
            c
        } else {
            Command::new(path)
        };
        // The server user may not be able to enter our working directory (e.g. /root).
        cmd.current_dir(cwd).stdin(Stdio::null());
        cmd
    }

    /// A command for a client tool (createdb, psql): from our bin directory if present, else PATH.
    pub(crate) fn client(&self, tool: &str) -> Command {
        let path = self.dir.join(tool);
        let mut cmd = if path.is_file() {
            Command::new(path)
        } else {
            Command::new(tool)
        };
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Gives `path` to the `postgres` user when we are root (no-op otherwise).
    pub(crate) fn hand_over(&self, path: &Path) -> Result<()> {
        if self.as_postgres {
            run_quiet(Command::new("chown").arg("postgres:").arg(path))?;
        }
        Ok(())
    }
}

/// The error shown when no PostgreSQL server binaries exist on this machine.
fn not_found() -> anyhow::Error {
    let sudo = if is_root().unwrap_or(false) {
        ""
    } else {
        "sudo "
    };
    anyhow::anyhow!(
        "PostgreSQL server binaries (initdb, pg_ctl) not found.\n\
         Install them with: {sudo}apt-get install -y postgresql   (Debian/Ubuntu)\n\
         or set PG_BIN to the directory that holds initdb and pg_ctl,\n\
         or (for `cargo xtask run`) set DATABASE_URL to an existing database."
    )
}

/// Searches PG_BIN, PATH and /usr/lib/postgresql/<version>/bin, in that order.
fn find_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let initdb = dir.join("initdb");
            if initdb.is_file() {
                // /usr/local/bin/initdb is often a symlink; its real directory also has createdb/psql.
                let real = initdb.canonicalize().unwrap_or(initdb);
                return real.parent().map(Path::to_path_buf);
            }
        }
    }
    let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
    versions
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

/// Whether we run as root (`id -u` is 0); unsafe (geteuid) is forbidden in this workspace.
pub(crate) fn is_root() -> Result<bool> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .context("running `id -u`")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Creates the system user `postgres` if it is missing (only called as root).
fn ensure_postgres_user() -> Result<()> {
    let exists = Command::new("id")
        .args(["-u", "postgres"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running `id -u postgres`")?
        .success();
    if !exists {
        run_quiet(Command::new("useradd").args([
            "--system",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "postgres",
        ]))
        .context("creating the system user `postgres` (initdb refuses to run as root)")?;
    }
    Ok(())
}

/// Runs a command with captured output; on failure the error carries its stdout and stderr.
pub(crate) fn run_quiet(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
