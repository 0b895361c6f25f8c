//! Scenario `history`: read latency against a large stored history. The history is seeded
//! directly with SQL through psql (users, direct conversations, members and messages with
//! consistent `last_seq`/`message_count`, then `VACUUM ANALYZE`), first small (10,000 messages),
//! then large (1,000,000; 100,000 with `--quick`), each with a reader in 1,000 groups (see
//! [`history_groups`]); at each size one client issues sequential requests for the first page
//! and a deep page (by `before` cursor) of the big conversation, the conversation list and the
//! unread count, then the reader's conversation list and unread count. Then the big
//! conversation gains what a lived-in history has (reactions on every other message, every
//! fifth a reply to the one before, every seventh edited) and its two pages are measured
//! again (`first-page-extras`, `deep-page-extras`, with their ratio to the plain pages).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::Ctx;
use crate::calibrate::Db;
use crate::history_extras::{self, Query};
use crate::history_groups::{self, GROUPS};
use crate::http::HttpConn;
use crate::report::Outcome;
use crate::stats::Latencies;
use crate::users::{self, MESSAGE};

/// Ids of the seeded users and conversations are `BASE + 1 ..`, a range of their own.
pub(crate) const BASE: i64 = 2_000_000;
/// The whole range this scenario owns (conversations in it are deleted before each seeding).
const RANGE_END: i64 = 2_999_999;
/// Messages per page (the server's default).
const PAGE: usize = 50;
/// Conversations inserted per statement, at most about this many messages per statement.
const BATCH_MESSAGES: i64 = 100_000;
/// The whole scenario's bound.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(900);
/// Unmeasured requests per query before each measurement.
const WARMUP: usize = 50;

/// One size of stored history.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    /// Name in the result lines (`10k`, `1m`).
    pub(crate) label: &'static str,
    /// Users, each in `2 * conversations / users` direct conversations.
    pub(crate) users: i64,
    /// Direct conversations; the first is the big one.
    pub(crate) conversations: i64,
    /// Messages in the big conversation.
    pub(crate) big: i64,
    /// Messages in each of the reader's groups.
    pub(crate) group_messages: i64,
    /// Messages stored in all.
    pub(crate) total: i64,
}

/// The sizes, small first: the same shape scaled by 10 or 100.
pub(crate) fn sizes(quick: bool) -> [Size; 2] {
    let small = Size {
        label: "10k",
        users: 100,
        conversations: 1_000,
        big: 1_000,
        group_messages: 5,
        total: 10_000,
    };
    let large = if quick {
        Size {
            label: "100k",
            users: 1_000,
            conversations: 10_000,
            big: 20_000,
            group_messages: 20,
            total: 100_000,
        }
    } else {
        Size {
            label: "1m",
            users: 1_000,
            conversations: 10_000,
            big: 100_000,
            group_messages: 50,
            total: 1_000_000,
        }
    };
    [small, large]
}

/// Runs the scenario, bounded in time.
pub(crate) async fn run(ctx: &Ctx) -> Result<Vec<Outcome>> {
    tokio::time::timeout(SCENARIO_TIMEOUT, all(ctx))
        .await
        .context("history did not finish in time")?
}

/// Both sizes; the large size's results carry the ratio of their p50 to the small size's.
async fn all(ctx: &Ctx) -> Result<Vec<Outcome>> {
    let db = ctx
        .db
        .clone()
        .context("history seeds its data with psql and needs --db-url")?;
    // Enough that p99 is the tenth slowest request, not the second.
    let requests = if ctx.quick { 100 } else { 1_000 };
    let mut outcomes: Vec<Outcome> = Vec::new();
    // The small size's p50 and p99 by query.
    let mut small: Vec<(String, f64, f64)> = Vec::new();
    for size in sizes(ctx.quick) {
        eprintln!(
            "chat-bench: history/{}: seeding {} messages",
            size.label, size.total
        );
        let seeding = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || seed(&db, size, &format!("'{MESSAGE}'")))
                .await
                .context("the seeding thread panicked")??
        };
        let stored = db
            .psql(&format!(
                "SELECT count(*) FROM chat.messages WHERE conversation_id BETWEEN {} AND {RANGE_END}",
                BASE + 1
            ))
            .context("counting the seeded messages")?;
        let mut measured = measure(ctx, "history", size, &queries(size), requests, check).await?;
        history_extras::seed(&db, BASE).context("seeding reactions, replies and edits")?;
        let extras = history_extras::queries(queries(size));
        let extras = measure(ctx, "history", size, &extras, requests, check).await?;
        history_extras::compare(&mut measured, extras);
        for mut outcome in measured {
            let query = query_of(&outcome);
            let d = &mut outcome.details;
            if query == "first-page" {
                d.insert("stored_messages".into(), json!(stored.parse::<u64>().ok()));
                d.insert("users".into(), json!(size.users));
                d.insert("conversations".into(), json!(size.conversations));
                d.insert("big_conversation_messages".into(), json!(size.big));
                d.insert("reader_groups".into(), json!(GROUPS));
                d.insert("group_members".into(), json!(history_groups::MEMBERS));
                d.insert("group_messages".into(), json!(size.group_messages));
                d.insert("seed_s".into(), json!((seeding * 10.0).round() / 10.0));
            }
            relate_to_small(&mut small, query, &mut outcome);
            outcome.print_json()?;
            outcomes.push(outcome);
        }
    }
    Ok(outcomes)
}

/// The query an outcome measured: the last part of its name (`history/1m/first-page`).
pub(crate) fn query_of(outcome: &Outcome) -> String {
    outcome
        .scenario
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Gives a large size's `outcome` of `query` the ratios of its p50 and p99 to the small
/// size's (`p50_ratio_to_10k`, `p99_ratio_to_10k`); the small size's are kept in `small`.
pub(crate) fn relate_to_small(
    small: &mut Vec<(String, f64, f64)>,
    query: String,
    outcome: &mut Outcome,
) {
    let (p50, p99) = (outcome.latency.p50_ms, outcome.latency.p99_ms);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let d = &mut outcome.details;
    match small.iter().find(|(q, _, _)| *q == query) {
        Some((_, small_p50, small_p99)) if *small_p50 > 0.0 && *small_p99 > 0.0 => {
            d.insert("p50_ratio_to_10k".into(), json!(round(p50 / small_p50)));
            d.insert("p99_ratio_to_10k".into(), json!(round(p99 / small_p99)));
        }
        Some(_) => {}
        None => small.push((query, p50, p99)),
    }
}

/// Replaces this scenario's data with `size`, each message's text the SQL expression
/// `content` (of the conversation `c` and the message's `seq` `s`); returns the seconds it took.
pub(crate) fn seed(db: &Db, size: Size, content: &str) -> Result<f64> {
    let started = Instant::now();
    let (first, last) = (BASE + 1, BASE + size.conversations);
    db.psql(&format!(
        "DELETE FROM chat.conversations WHERE id BETWEEN {first} AND {RANGE_END}"
    ))
    .context("deleting the previous history")?;
    db.psql(&format!(
        "INSERT INTO chat.users (id, username) SELECT {BASE} + g, 'history' || g \
           FROM generate_series(1, {users}) g ON CONFLICT (id) DO NOTHING",
        users = size.users
    ))
    .context("seeding users")?;
    // Conversation k (from 0) pairs user a = 1 + k % U with user a + d (wrapping), where
    // d = 1 + k / U: distinct pairs while d < U / 2. Conversation 0 (users 1 and 2) is the big one;
    // the groups hold theirs; the rest of the messages are spread evenly over the others.
    let in_groups = GROUPS * size.group_messages;
    let (others, rest) = (size.conversations - 1, size.total - size.big - in_groups);
    if others < 1
        || rest < others
        || size.group_messages < history_groups::UNREAD_PER_GROUP
        || size.conversations / size.users >= size.users / 2
    {
        bail!("history: bad size {size:?}");
    }
    db.psql(&format!(
        "INSERT INTO chat.conversations (id, kind, direct_user_low, direct_user_high, last_seq, \
           message_count, last_message_seq, last_message, last_message_at, created_at, updated_at) \
         OVERRIDING SYSTEM VALUE \
         SELECT {first} + k, 'direct', {BASE} + least(a, b), {BASE} + greatest(a, b), n, n, n, \
                '{MESSAGE}', now() - k * interval '1 second', now() - interval '1 day', \
                now() - k * interval '1 second' \
           FROM (SELECT k, 1 + k % {u} AS a, 1 + (k % {u} + 1 + k / {u}) % {u} AS b, \
                        CASE WHEN k = 0 THEN {big} \
                             ELSE {rest} / {others} + (CASE WHEN k - 1 < {rest} % {others} \
                                                            THEN 1 ELSE 0 END) END AS n \
                   FROM generate_series(0, {last} - {first}) k) s",
        u = size.users,
        big = size.big,
    ))
    .context("seeding conversations")?;
    // Every member has read all but the last 3 messages of each of its conversations.
    db.psql(&format!(
        "INSERT INTO chat.conversation_members (conversation_id, user_id, last_read_seq) \
         SELECT c.id, m.u, greatest(c.last_seq - 3, 0) FROM chat.conversations c, \
                LATERAL (VALUES (c.direct_user_low), (c.direct_user_high)) m(u) \
          WHERE c.id BETWEEN {first} AND {last}"
    ))
    .context("seeding members")?;
    // Messages in batches of about BATCH_MESSAGES: the big conversation alone, then the others.
    let per = (rest / others).max(1);
    let step = (BATCH_MESSAGES / per).max(1);
    let mut ranges = vec![(first, first)];
    let mut lo = first + 1;
    while lo <= last {
        let hi = (lo + step - 1).min(last);
        ranges.push((lo, hi));
        lo = hi + 1;
    }
    for (lo, hi) in ranges {
        db.psql(&format!(
            "INSERT INTO chat.messages (conversation_id, seq, sender_id, content, created_at, \
               updated_at) \
             SELECT c.id, s, CASE WHEN s % 2 = 1 THEN c.direct_user_low ELSE c.direct_user_high END, \
                    {content}, c.last_message_at - (c.last_seq - s) * interval '1 second', \
                    c.last_message_at - (c.last_seq - s) * interval '1 second' \
               FROM chat.conversations c, generate_series(1, c.last_seq) s \
              WHERE c.id BETWEEN {lo} AND {hi}"
        ))
        .with_context(|| format!("seeding messages of conversations {lo}..={hi}"))?;
    }
    history_groups::seed(db, BASE, last + 1, size.group_messages, content)?;
    db.psql(
        "VACUUM (ANALYZE) chat.users, chat.conversations, chat.conversation_members, chat.messages",
    )
    .context("vacuuming")?;
    // Write the seeding's dirty pages now, so that the checkpoint it would cause does not
    // land in the middle of the measurement.
    db.psql("CHECKPOINT").context("checkpointing")?;
    Ok(started.elapsed().as_secs_f64())
}

/// The measured queries: name, request path and who asks (user 1 of the big conversation, or
/// the reader in the groups).
fn queries(size: Size) -> [Query; 6] {
    let conversation = BASE + 1;
    let reader = history_groups::reader(BASE);
    // Deep: the page just below the oldest tenth of the big conversation.
    let before = (size.big / 10).max(2);
    [
        (
            "first-page",
            format!("/api/chat/conversations/{conversation}/messages?limit={PAGE}"),
            conversation,
        ),
        (
            "deep-page",
            format!("/api/chat/conversations/{conversation}/messages?before={before}&limit={PAGE}"),
            conversation,
        ),
        (
            "conversations",
            "/api/chat/conversations".to_owned(),
            conversation,
        ),
        (
            "unread-count",
            "/api/chat/unread-count".to_owned(),
            conversation,
        ),
        (
            "group-conversations",
            "/api/chat/conversations".to_owned(),
            reader,
        ),
        (
            "group-unread-count",
            "/api/chat/unread-count".to_owned(),
            reader,
        ),
    ]
}

/// Sequential requests per query from one client, as the user each query names; `check`
/// reads each unmeasured answer. Results are named `<scenario>/<size>/<query>`.
pub(crate) async fn measure(
    ctx: &Ctx,
    scenario: &str,
    size: Size,
    queries: &[Query],
    requests: usize,
    check: fn(&str, &serde_json::Value, Size) -> Result<()>,
) -> Result<Vec<Outcome>> {
    let mut conn = HttpConn::new(ctx.addr);
    let mut outcomes = Vec::new();
    for (name, path, user) in queries.iter().cloned() {
        let tokens = users::seed(ctx.addr, &ctx.secret, &[user]).await?;
        let token = tokens.first().context("no token")?;
        for _ in 0..WARMUP {
            let response = conn.get_ok(&path, token).await?;
            check(name, &response.json()?, size)?;
        }
        let before = ctx.meter.start();
        let started = Instant::now();
        let mut latencies = Latencies::with_capacity(requests);
        let mut errors = 0u64;
        for _ in 0..requests {
            let sent = Instant::now();
            match conn.request("GET", &path, Some(token), None).await {
                Ok(r) if r.status == 200 => latencies.record(sent.elapsed()),
                _ => errors += 1,
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let usage = ctx.meter.since(&before);
        let latency = latencies.summary();
        let ok = latency.count as u64;
        let mut details = serde_json::Map::new();
        details.insert("request".into(), json!(format!("GET {path}")));
        outcomes.push(Outcome {
            scenario: format!("{scenario}/{}/{name}", size.label),
            duration_s: elapsed,
            ok,
            errors,
            rate_per_s: Some(ok as f64 / elapsed),
            ratio_to_c: None,
            latency,
            usage,
            details,
        });
    }
    Ok(outcomes)
}

/// Checks that an answer holds what the seeded data says it must.
fn check(name: &str, body: &serde_json::Value, size: Size) -> Result<()> {
    let body = body.get("data").unwrap_or(body);
    let list = |key: &str| {
        body[key]
            .as_array()
            .with_context(|| format!("{name}: no `{key}` list in {body}"))
    };
    match name {
        "first-page" | "deep-page" | "first-page-extras" | "deep-page-extras" => {
            let messages = list("messages")?;
            if name.ends_with("-extras") && !messages.iter().any(|m| m["reactions"].is_array()) {
                bail!("{name}: no message of the page shows its reactions");
            }
            let seqs: Vec<i64> = messages.iter().filter_map(|m| m["seq"].as_i64()).collect();
            let top = if name.starts_with("first-page") {
                size.big
            } else {
                (size.big / 10).max(2) - 1
            };
            let want = usize::try_from(top.min(PAGE as i64))?;
            if seqs.len() != want || seqs.first() != Some(&top) {
                bail!("{name}: expected {want} messages from seq {top}, got seqs {seqs:?}");
            }
        }
        "conversations" => {
            if list("conversations")?.is_empty() {
                bail!("conversations: the list is empty");
            }
        }
        "group-conversations" => {
            let kinds: Vec<&str> = list("conversations")?
                .iter()
                .filter_map(|c| c["kind"].as_str())
                .collect();
            if kinds.is_empty() || kinds.iter().any(|k| *k != "group") {
                bail!("group-conversations: expected groups only, got kinds {kinds:?}");
            }
        }
        "group-unread-count" => {
            // The reader sent nothing: 3 unread messages from others in each group.
            let want = GROUPS * history_groups::UNREAD_PER_GROUP;
            if body["unreadCount"].as_i64() != Some(want) {
                bail!("group-unread-count: expected {want} unread messages, got {body}");
            }
        }
        _ => {
            // Each of user 1's conversations has 3 unread messages, some of them its own.
            if body["unreadCount"].as_u64().unwrap_or(0) == 0 {
                bail!("unread-count: expected unread messages, got {body}");
            }
        }
    }
    Ok(())
}
