//! The throwaway PostgreSQL cluster: initdb into a temp dir, start on a free port, stop and delete on drop.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::net::free_port;
use crate::pg_bin::{PgBin, run_quiet};

/// Prefix of our temporary directories, so stale ones (owner process gone) can be recognised.
const DIR_PREFIX: &str = "chat-pg-";

/// Settings that make a disposable cluster fast; durability does not matter here.
const SERVER_SETTINGS: &str = "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                               -c full_page_writes=off -c max_connections=200";

/// Settings for `cargo xtask bench`: every commit reaches the disk, as in production, so that
/// the benchmark does not flatter the server.
pub(crate) const DURABLE_SETTINGS: &str = "-c listen_addresses=127.0.0.1 -c fsync=on \
                               -c synchronous_commit=on -c full_page_writes=on \
                               -c shared_buffers=256MB -c max_connections=200";

/// A running throwaway cluster; dropping it stops the server and deletes its directory.
#[derive(Debug)]
pub(crate) struct Cluster {
    /// How to run initdb/pg_ctl.
    bin: PgBin,
    /// Our temp dir: holds `data/`, the Unix socket and `server.log`.
    root: PathBuf,
    /// The 127.0.0.1 TCP port the server listens on.
    port: u16,
    /// The `-c` options the server runs with.
    settings: &'static str,
}

impl Cluster {
    /// Creates, initialises and starts a fresh cluster on a free 127.0.0.1 port.
    pub(crate) fn start() -> Result<Self> {
        Self::start_with(SERVER_SETTINGS)
    }

    /// The same with durable settings (fsync and synchronous_commit on), for benchmarks.
    pub(crate) fn start_durable() -> Result<Self> {
        Self::start_with(DURABLE_SETTINGS)
    }

    /// Creates, initialises and starts a fresh cluster with these `-c` options.
    fn start_with(settings: &'static str) -> Result<Self> {
        let bin = PgBin::find()?;
        let base = base_dir(bin.as_postgres());
        reap_stale(&base, &bin);
        let root = base.join(format!("{DIR_PREFIX}{}-{}", std::process::id(), nanos()));
        fs::create_dir(&root).with_context(|| format!("creating {}", root.display()))?;
        // From here on Drop cleans up, also when a later step fails.
        let mut cluster = Self {
            bin,
            root,
            port: 0,
            settings,
        };
        fs::set_permissions(&cluster.root, fs::Permissions::from_mode(0o700))?;
        cluster.bin.hand_over(&cluster.root)?;
        cluster.initdb()?;
        cluster.launch()?;
        Ok(cluster)
    }

    /// One line saying which PostgreSQL runs where (for the user).
    pub(crate) fn describe(&self) -> String {
        let version = fs::read_to_string(self.data().join("PG_VERSION")).unwrap_or_default();
        format!(
            "PostgreSQL {} ({}) on 127.0.0.1:{}, files in {}",
            version.trim(),
            self.bin.dir().display(),
            self.port,
            self.root.display()
        )
    }

    /// The URL of database `db` as the superuser `postgres` (trust auth, no password).
    pub(crate) fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The admin URL (database `postgres`); tests create their own databases through it.
    pub(crate) fn admin_url(&self) -> String {
        self.url("postgres")
    }

    /// Creates database `name` over TCP as user `postgres`.
    pub(crate) fn create_database(&self, name: &str) -> Result<()> {
        let port = self.port.to_string();
        run_quiet(self.bin.client("createdb").args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            name,
        ]))
        .with_context(|| format!("creating database {name}"))
    }

    /// A command for a client tool (psql, pgbench) from the cluster's bin directory.
    pub(crate) fn client(&self, tool: &str) -> std::process::Command {
        self.bin.client(tool)
    }

    /// The data directory inside our temp dir.
    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The server log written by pg_ctl.
    fn log(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// Runs initdb (trust auth, UTF-8, no fsync) into `data/`.
    fn initdb(&self) -> Result<()> {
        let mut cmd = self.bin.server("initdb", &self.root);
        cmd.arg("-D").arg(self.data());
        cmd.args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]);
        run_quiet(&mut cmd).context("initdb failed")
    }

    /// Starts the server with pg_ctl; retries with another port if ours was taken meanwhile.
    fn launch(&mut self) -> Result<()> {
        for attempt in 1..=3 {
            self.port = free_port()?;
            let _ = fs::remove_file(self.log());
            let opts = format!(
                "-p {} -k '{}' {}",
                self.port,
                self.root.display(),
                self.settings
            );
            let mut cmd = self.bin.server("pg_ctl", &self.root);
            cmd.arg("-D").arg(self.data()).arg("-l").arg(self.log());
            cmd.args(["-w", "-t", "60", "-o", &opts, "start"]);
            // Own process group: the user's Ctrl-C must not reach PostgreSQL before the server drained.
            cmd.process_group(0);
            let Err(err) = run_quiet(&mut cmd) else {
                return Ok(());
            };
            let log = fs::read_to_string(self.log()).unwrap_or_default();
            if attempt < 3 && log.contains("could not bind") {
                continue;
            }
            eprintln!(
                "--- {} ---\n{log}--- end of server.log ---",
                self.log().display()
            );
            return Err(err.context("pg_ctl start failed (server.log above)"));
        }
        bail!("could not find a free port for PostgreSQL")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            stop(&self.bin, &self.root, &self.data(), "fast");
        }
        match fs::remove_dir_all(&self.root) {
            Ok(()) => note(format_args!(
                "xtask: PostgreSQL (port {}) stopped, {} removed",
                self.port,
                self.root.display()
            )),
            Err(e) => note(format_args!(
                "xtask: could not remove {}: {e}",
                self.root.display()
            )),
        }
    }
}

/// Stops the server in `data` (falling back to immediate mode), in its own process group.
fn stop(bin: &PgBin, root: &Path, data: &Path, mode: &str) {
    for mode in [mode, "immediate"] {
        let mut cmd = bin.server("pg_ctl", root);
        cmd.arg("-D")
            .arg(data)
            .args(["-m", mode, "-w", "-t", "60", "stop"]);
        cmd.process_group(0);
        match run_quiet(&mut cmd) {
            Ok(()) => return,
            Err(e) => note(format_args!("xtask: pg_ctl stop -m {mode}: {e:#}")),
        }
    }
}

/// Prints to stderr without panicking (this runs in Drop, maybe while the output pipe is gone).
fn note(msg: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// Removes clusters left behind by xtask processes that no longer exist (e.g. killed with SIGKILL).
fn reap_stale(base: &Path, bin: &PgBin) {
    if !Path::new("/proc/self").exists() {
        return; // cannot tell whether the owner is alive
    }
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if process_alive(pid) {
            continue;
        }
        let root = entry.path();
        let data = root.join("data");
        if data.join("postmaster.pid").exists() {
            stop(bin, &root, &data, "immediate");
        }
        if fs::remove_dir_all(&root).is_ok() {
            note(format_args!(
                "xtask: removed stale cluster {}",
                root.display()
            ));
        }
    }
}

/// Whether process `pid` exists and is not a zombie (a killed xtask may linger unreaped).
pub(crate) fn process_alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // Format: "pid (comm) STATE ..."; comm may contain spaces, so look after the last ')'.
        let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        !state.is_some_and(|s| s.starts_with('Z'))
    })
}

/// The directory to create our temp dir in: temp_dir(), or /tmp if the postgres user could
/// not traverse it or the Unix socket path would get too long.
fn base_dir(as_postgres: bool) -> PathBuf {
    let tmp = std::env::temp_dir();
    let short = tmp.as_os_str().len() < 60;
    let traversable = !as_postgres
        || tmp
            .ancestors()
            .all(|dir| fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    if short && traversable {
        tmp
    } else {
        PathBuf::from("/tmp")
    }
}

/// Nanoseconds since the epoch, to make our directory name unique together with the pid.
pub(crate) fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
