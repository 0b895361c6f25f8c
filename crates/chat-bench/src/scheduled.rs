//! Scenario `scheduled`: 100,000 messages (10,000 with `--quick`) scheduled for the same
//! second go out. They are seeded with SQL through psql into `scheduled_messages` (1,000
//! direct conversations of 2,000 users of their own, 100 messages each, from both members,
//! interleaved: scheduled one conversation after the other, round and round),
//! due 15 s after the seeding starts; the server's loop claims and sends them. The scenario
//! watches the stored messages with the client message ids `scheduled:<id>` until all are
//! there, then reads each one's delay past its `sendAt` (its `created_at`, the time of its
//! commit's transaction) and checks that none is missing, doubled or left behind.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{SecondsFormat, Utc};
use serde_json::json;

use crate::Ctx;
use crate::calibrate::Db;
use crate::report::Outcome;
use crate::stats::Latencies;

/// Ids of the seeded users and conversations are `BASE + 1 ..`, a range of their own.
const BASE: i64 = 3_000_000;
/// Conversations, each between two users of their own.
const CONVERSATIONS: i64 = 1_000;
/// How long after the seeding starts the messages are due.
const LEAD: Duration = Duration::from_secs(15);
/// How long past their time the scenario waits for the last of them.
const PATIENCE: Duration = Duration::from_secs(120);

/// Runs the scenario.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let db = ctx
        .db
        .clone()
        .context("scheduled seeds its data with psql and needs --db-url")?;
    let total: i64 = if ctx.quick { 10_000 } else { 100_000 };
    let per = total / CONVERSATIONS;
    let due = Utc::now() + LEAD;
    let due_sql = format!("'{}'", due.to_rfc3339_opts(SecondsFormat::Micros, true));
    {
        let db = db.clone();
        let due_sql = due_sql.clone();
        tokio::task::spawn_blocking(move || seed(&db, per, &due_sql))
            .await
            .context("the seeding thread panicked")??;
    }
    let (first, last) = (BASE + 1, BASE + CONVERSATIONS);
    let sent_count = format!(
        "SELECT count(*) FROM chat.messages \
          WHERE conversation_id BETWEEN {first} AND {last} \
            AND client_message_id LIKE 'scheduled:%'"
    );
    // Wait for the time, then watch the count.
    let until_due = (due - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(until_due).await;
    let before = ctx.meter.start();
    let started = Instant::now();
    let mut delivered = 0;
    while started.elapsed() < PATIENCE {
        delivered = count(&db, &sent_count)?;
        if delivered >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all_stored_s = started.elapsed().as_secs_f64();
    let usage = ctx.meter.since(&before);
    let distinct = count(
        &db,
        &format!(
            "SELECT count(DISTINCT client_message_id) FROM chat.messages \
              WHERE conversation_id BETWEEN {first} AND {last} \
                AND client_message_id LIKE 'scheduled:%'"
        ),
    )?;
    let left = count(
        &db,
        &format!(
            "SELECT count(*) FROM chat.scheduled_messages \
              WHERE conversation_id BETWEEN {first} AND {last}"
        ),
    )?;
    let delays = db.psql(&format!(
        "SELECT extract(epoch FROM (created_at - {due_sql}::timestamptz)) * 1000 \
           FROM chat.messages \
          WHERE conversation_id BETWEEN {first} AND {last} \
            AND client_message_id LIKE 'scheduled:%'"
    ))?;
    let mut latencies = Latencies::with_capacity(usize::try_from(total).unwrap_or(0));
    for line in delays.lines() {
        let ms: f64 = line.trim().parse().context("a delay")?;
        latencies.record(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
    }
    let duplicates = delivered - distinct;
    let missing = total - distinct;
    let mut details = serde_json::Map::new();
    details.insert("scheduled".into(), json!(total));
    details.insert("conversations".into(), json!(CONVERSATIONS));
    details.insert(
        "all_stored_s".into(),
        json!((all_stored_s * 100.0).round() / 100.0),
    );
    details.insert("duplicated".into(), json!(duplicates));
    details.insert("missing".into(), json!(missing));
    details.insert("left_scheduled".into(), json!(left));
    if duplicates != 0 || missing != 0 || left != 0 {
        details.insert(
            "fail".into(),
            json!(format!(
                "{missing} missing, {duplicates} duplicated, {left} left scheduled"
            )),
        );
    }
    let latency = latencies.summary();
    let outcome = Outcome {
        scenario: format!("scheduled/{}", if ctx.quick { "10k" } else { "100k" }),
        duration_s: all_stored_s,
        ok: u64::try_from(distinct).unwrap_or(0),
        errors: u64::try_from(duplicates + missing).unwrap_or(0),
        rate_per_s: Some(distinct as f64 / all_stored_s.max(0.001)),
        ratio_to_c: None,
        latency,
        usage,
        details,
    };
    outcome.print_json()?;
    Ok(vec![outcome])
}

fn count(db: &Db, sql: &str) -> Result<i64> {
    db.psql(sql)?.parse().context("a count")
}

/// Replaces this scenario's data: users, conversations, members and `per` scheduled messages
/// in each conversation, all due at `due` (an SQL timestamp literal).
fn seed(db: &Db, per: i64, due: &str) -> Result<()> {
    let (first, last) = (BASE + 1, BASE + CONVERSATIONS);
    db.psql(&format!(
        "DELETE FROM chat.conversations WHERE id BETWEEN {first} AND {last}; \
         INSERT INTO chat.users (id, username) \
         SELECT {BASE} + g, 'scheduled' || g FROM generate_series(1, 2 * {CONVERSATIONS}) g \
         ON CONFLICT (id) DO NOTHING; \
         INSERT INTO chat.conversations (id, kind, direct_user_low, direct_user_high) \
         OVERRIDING SYSTEM VALUE \
         SELECT {BASE} + k, 'direct', {BASE} + 2 * k - 1, {BASE} + 2 * k \
           FROM generate_series(1, {CONVERSATIONS}) k; \
         INSERT INTO chat.conversation_members (conversation_id, user_id) \
         SELECT id, direct_user_low FROM chat.conversations WHERE id BETWEEN {first} AND {last} \
         UNION ALL \
         SELECT id, direct_user_high FROM chat.conversations WHERE id BETWEEN {first} AND {last}; \
         INSERT INTO chat.scheduled_messages (sender_id, conversation_id, content, send_at) \
         SELECT CASE WHEN s % 2 = 0 THEN c.direct_user_low ELSE c.direct_user_high END, c.id, \
                'scheduled message ' || s, {due} \
           FROM chat.conversations c, generate_series(1, {per}) s \
          WHERE c.id BETWEEN {first} AND {last} \
          ORDER BY s, c.id"
    ))
    .context("seeding the scheduled messages")?;
    db.psql("VACUUM (ANALYZE) chat.scheduled_messages")
        .context("vacuuming")?;
    if per < 1 {
        bail!("scheduled: nothing to seed");
    }
    Ok(())
}
