//! The workspace root, the cargo command, and settings read from the environment or `.env`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// The workspace root (xtask lives one level below it); all cargo commands run from here.
pub(crate) fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.join(".."), Path::to_path_buf)
}

/// Where cargo puts build output.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// A `cargo` command (the `CARGO` that launched us, else `cargo` on PATH) run from the workspace root.
pub(crate) fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(root());
    cmd
}

/// Stops with what to install when the server cannot be built here: its allocator (jemalloc)
/// is C, built with `make` and the system's C compiler.
pub(crate) fn require_c_toolchain() -> Result<()> {
    let missing: Vec<&str> = ["make", "cc"]
        .into_iter()
        .filter(|program| !on_path(program))
        .collect();
    if !missing.is_empty() {
        bail!(
            "building chat-server needs {} (its allocator, jemalloc, is C): \
             apt-get install -y build-essential (Debian/Ubuntu)",
            missing.join(" and ")
        );
    }
    Ok(())
}

/// Whether an executable named `program` is in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Configuration as the server will see it: process environment first, then `.env` in the root.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    /// KEY=VALUE pairs from `.env` (empty when the file does not exist).
    dotenv: HashMap<String, String>,
}

impl Settings {
    /// Reads `.env` from the workspace root if it exists.
    pub(crate) fn load() -> Result<Self> {
        let path = root().join(".env");
        let dotenv = match std::fs::read_to_string(&path) {
            Ok(text) => parse_dotenv(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Self { dotenv })
    }

    /// The non-empty value of `key` from the environment, else from `.env`.
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        std::env::var(key)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.dotenv.get(key).filter(|v| !v.is_empty()).cloned())
    }

    /// Whether any of `keys` has a non-empty value.
    pub(crate) fn any_set(&self, keys: &[&str]) -> bool {
        keys.iter().any(|k| self.get(k).is_some())
    }
}

/// Parses `.env` simply: KEY=VALUE lines, optional `export `, optional matching quotes; `#` comments.
fn parse_dotenv(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, value) = line.split_once('=')?;
            let value = value.trim();
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
                .unwrap_or(value);
            Some((key.trim().to_owned(), unquoted.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_dotenv;

    #[test]
    fn parses_simple_dotenv() {
        let env = parse_dotenv(
            "# comment\n\nDATABASE_URL=postgres://x/y\nexport A=\"quoted value\"\nB='single'\nC = spaced \nJUNK\n",
        );
        assert_eq!(
            env.get("DATABASE_URL").map(String::as_str),
            Some("postgres://x/y")
        );
        assert_eq!(env.get("A").map(String::as_str), Some("quoted value"));
        assert_eq!(env.get("B").map(String::as_str), Some("single"));
        assert_eq!(env.get("C").map(String::as_str), Some("spaced"));
        assert_eq!(env.len(), 4);
    }
}
