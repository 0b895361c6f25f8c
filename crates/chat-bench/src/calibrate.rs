//! Calibration C: PostgreSQL's own ceiling for one message per transaction, measured with
//! `pgbench` on the same cluster, running the server's append statement.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::users::MESSAGE;

/// pgbench clients, each in its own conversation (no hot row, like the rest-send pairs).
pub(crate) const CLIENTS: u32 = 16;

/// Users, conversations and members for the calibration, inserted directly with ids far above
/// the bench users' (the users of client `k` are 900001 + 2k and 900002 + 2k).
const SEED: &str = "
INSERT INTO chat.users (id, username)
  SELECT 900000 + g, 'calibration' || g FROM generate_series(1, 2 * 16) g;
INSERT INTO chat.conversations (id, kind, direct_user_low, direct_user_high) OVERRIDING SYSTEM VALUE
  SELECT 900000 + g, 'direct', 900000 + 2 * g - 1, 900000 + 2 * g FROM generate_series(1, 16) g;
INSERT INTO chat.conversation_members (conversation_id, user_id)
  SELECT 900000 + g, 900000 + 2 * g - 1 + s FROM generate_series(1, 16) g, generate_series(0, 1) s;";

/// The pgbench script: the server's append statement (crates/chat-store-pg/src/prepared.rs,
/// with the schema written out) as one transaction.
const SCRIPT: &str = r"\set cid 900001 + :client_id
\set uid 900001 + 2 * :client_id
WITH conv AS (
    UPDATE chat.conversations c
       SET last_seq = c.last_seq + 1, message_count = c.message_count + 1,
           last_message_seq = c.last_seq + 1, last_message = :content,
           last_message_at = now(), updated_at = now()
     WHERE c.id = :cid
       AND EXISTS (SELECT 1 FROM chat.conversation_members m
                    WHERE m.conversation_id = :cid AND m.user_id = :uid)
 RETURNING c.id, c.last_seq
), msg AS (
    INSERT INTO chat.messages (conversation_id, seq, sender_id, content, attachment_url, client_message_id)
    SELECT conv.id, conv.last_seq, :uid, :content, NULL::text, NULL::text FROM conv
    RETURNING id, conversation_id, seq, sender_id, content, attachment_url, client_message_id,
              created_at, updated_at
), watermark AS (
    UPDATE chat.conversation_members m SET last_read_seq = msg.seq, last_read_at = now()
      FROM msg
     WHERE m.conversation_id = msg.conversation_id AND m.user_id = msg.sender_id
)
SELECT * FROM msg;
";

/// The PostgreSQL client tools and the database the server uses.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    /// The database URL (loopback only).
    pub(crate) url: String,
    /// The directory holding psql and pgbench (empty: take them from PATH).
    pub(crate) bin: PathBuf,
}

impl Db {
    /// A command for `tool` from the bin directory.
    fn tool(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        let mut cmd = Command::new(if path.is_file() { path } else { tool.into() });
        cmd.stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs one SQL text with psql; returns its unaligned output.
    pub(crate) fn psql(&self, sql: &str) -> Result<String> {
        let out = self
            .tool("psql")
            .args(["-AtXq", "-v", "ON_ERROR_STOP=1", "-c", sql, &self.url])
            .output()
            .context("running psql")?;
        if !out.status.success() {
            bail!(
                "psql failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Seeds the calibration conversations and runs pgbench for `seconds`; returns C.
    pub(crate) fn calibrate(&self, seconds: u32) -> Result<f64> {
        self.psql(SEED)
            .context("seeding the calibration conversations")?;
        let script = std::env::temp_dir().join(format!("chat-bench-{}.sql", std::process::id()));
        std::fs::write(&script, SCRIPT).with_context(|| format!("writing {}", script.display()))?;
        let result = self.pgbench(&script, seconds);
        let _ = std::fs::remove_file(&script);
        result
    }

    /// Runs the script; parses `tps = ...`.
    fn pgbench(&self, script: &Path, seconds: u32) -> Result<f64> {
        let out = self
            .tool("pgbench")
            .args([
                "-n",
                "-M",
                "prepared",
                "-c",
                &CLIENTS.to_string(),
                "-j",
                "2",
            ])
            .args([
                "-T",
                &seconds.to_string(),
                "-D",
                &format!("content={MESSAGE}"),
            ])
            .arg("-f")
            .arg(script)
            .arg(&self.url)
            .output()
            .context("running pgbench (it ships with the PostgreSQL server binaries)")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let tps = stdout
            .lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok());
        match tps {
            Some(tps) if out.status.success() => Ok(tps),
            _ => bail!(
                "pgbench failed ({}):\n{stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

/// How the calibration was taken, for the results.
pub(crate) fn describe(seconds: u32) -> String {
    format!(
        "C: pgbench -M prepared -c {CLIENTS} -j 2 -T {seconds} on the same cluster, the server's \
         append statement (conversation update, message insert, sender's watermark) as one \
         transaction, one conversation per client"
    )
}
