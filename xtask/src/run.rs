//! `cargo xtask run`: build and run chat-server, with a throwaway database and a dev JWT secret if needed.

use std::io::Read;

use anyhow::{Context, Result, bail};

use crate::pg::Cluster;
use crate::signals::{Signals, exit_code, wait_child};
use crate::workspace::{Settings, cargo};

/// Variables that mean "the user configured a database"; if none is set we provision one.
const DB_VARS: &[&str] = &[
    "DATABASE_URL",
    "DB_NAME",
    "DB_USERNAME",
    "DB_PASSWORD",
    "DB_HOST",
    "DB_PORT",
];

/// Variables that mean "the user configured JWT verification"; if none is set we generate a secret.
const JWT_VARS: &[&str] = &["JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_PUBLIC_KEY_FILE"];

/// The server's own default port (it reads PORT itself; we only use this for the message).
const DEFAULT_PORT: &str = "3010";

/// Runs the server with `server_args`; returns the server's exit code.
pub(crate) async fn run(server_args: &[String]) -> Result<u8> {
    let settings = Settings::load()?;
    crate::workspace::require_c_toolchain()?;
    let mut signals = Signals::install()?;

    build_server(&mut signals).await?;
    install_client_bundle(&settings, &mut signals).await?;

    let mut envs: Vec<(&str, String)> = Vec::new();
    let cluster = throwaway_database(&settings)?;
    if let Some(cluster) = &cluster {
        envs.push(("DATABASE_URL", cluster.url("chat")));
    }
    if signals.pending().await.is_some() {
        bail!("interrupted before the server started");
    }

    if let Some(secret) = dev_jwt_secret(&settings)? {
        envs.push(("JWT_SECRET", secret));
    }

    let port = settings
        .get("PORT")
        .unwrap_or_else(|| DEFAULT_PORT.to_owned());
    println!("==> starting chat-server on http://127.0.0.1:{port} (Ctrl-C stops it)");
    let mut server = cargo([
        "run",
        "--quiet",
        "--package",
        "chat-server",
        "--bin",
        "chat-server",
        "--",
    ])
    .args(server_args)
    .envs(envs)
    .spawn()
    .context("starting chat-server")?;
    let (status, _) = wait_child(&mut server, &mut signals).await?;
    println!("==> chat-server exited ({status})");
    drop(cluster); // stop PostgreSQL only after the server has drained
    Ok(exit_code(status))
}

/// Builds the chat-server binary (debug), as `run` and `cluster` serve it.
pub(crate) async fn build_server(signals: &mut Signals) -> Result<()> {
    println!("==> building chat-server");
    let mut build = cargo([
        "build",
        "--quiet",
        "--package",
        "chat-server",
        "--bin",
        "chat-server",
    ])
    .spawn()
    .context("starting cargo build")?;
    let (status, _) = wait_child(&mut build, signals).await?;
    if !status.success() {
        bail!("building chat-server failed ({status})");
    }
    Ok(())
}

/// The socket.io-client bundle the server serves at `/socket.io/` (and the web app loads),
/// installed with `npm ci` in `web/` when it is missing there and the server would look for it
/// there (`CHAT_SERVE_CLIENT` not false, no `CHAT_CLIENT_DIR`). Without npm the server still
/// starts, without the bundle; this says what to install.
async fn install_client_bundle(settings: &Settings, signals: &mut Signals) -> Result<()> {
    let off = settings
        .get("CHAT_SERVE_CLIENT")
        .is_some_and(|v| v.trim() == "false");
    let web = crate::workspace::root().join("web");
    if off
        || settings.get("CHAT_CLIENT_DIR").is_some()
        || web
            .join("node_modules/socket.io-client/dist/socket.io.js")
            .is_file()
    {
        return Ok(());
    }
    println!("==> installing the socket.io-client bundle (npm ci in web/)");
    let child = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&web)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "    npm is not installed: the server starts without the client bundle and the web \
                 app cannot connect (install Node.js 18+ with npm: apt-get install -y nodejs npm)"
            );
            return Ok(());
        }
        Err(e) => return Err(e).context("starting npm ci"),
    };
    let (status, sig) = wait_child(&mut child, signals).await?;
    if sig.is_some() {
        bail!("interrupted while installing the client bundle");
    }
    if !status.success() {
        println!("    npm ci failed ({status}): the server starts without the client bundle");
    }
    Ok(())
}

/// A throwaway PostgreSQL with database `chat`, unless the user configured one (DATABASE_URL or
/// DB_* in the environment or `.env`); says which on stdout.
pub(crate) fn throwaway_database(settings: &Settings) -> Result<Option<Cluster>> {
    Ok(if settings.any_set(DB_VARS) {
        println!(
            "==> using the configured database (DATABASE_URL or DB_* from the environment/.env)"
        );
        None
    } else {
        println!("==> no DATABASE_URL or DB_* set: starting a throwaway PostgreSQL");
        let cluster = Cluster::start()?;
        cluster.create_database("chat")?;
        println!("    {}", cluster.describe());
        println!("    DATABASE_URL={}", cluster.url("chat"));
        Some(cluster)
    })
}

/// A development JWT secret, printed so that test tokens can be signed with it, unless the
/// user configured JWT verification (then `None`).
pub(crate) fn dev_jwt_secret(settings: &Settings) -> Result<Option<String>> {
    if settings.any_set(JWT_VARS) {
        return Ok(None);
    }
    let secret = random_hex(32)?;
    println!("==> development JWT_SECRET={secret}");
    println!("    (sign your test tokens with it; HS256)");
    Ok(Some(secret))
}

/// `n` random bytes from /dev/urandom as lowercase hex.
fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
