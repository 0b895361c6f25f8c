//! The server's own database: opened and migrated as at start-up, and written a batch at a
//! time. Each function here runs inside the caller's transaction (one per batch), reads what
//! the target already holds for the batch's ids, and writes only what is new, so that a batch
//! run twice writes nothing the second time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::migration::MigrationSource;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::ImportError;
use super::validate::{ConversationRecord, MessageRecord, UserRecord};
use crate::{MIGRATIONS, PgConfig, migrate, pool};

/// Connects to the target and, unless `dry_run`, applies pending migrations first, as the
/// server's start-up does. A dry run writes nothing, so it needs a migrated database.
pub(crate) async fn open(
    config: &PgConfig,
    dry_run: bool,
) -> Result<AsyncPgConnection, ImportError> {
    let schema = config
        .checked_schema()
        .map_err(|e| ImportError::Target(e.to_string()))?;
    if !dry_run {
        let first = pool::connect_within(&config.url, "public", "", config.connect_timeout)
            .await
            .map_err(|e| ImportError::Target(format!("cannot connect: {e}")))?;
        migrate::run_migrations(first, schema)
            .await
            .map_err(|e| ImportError::Target(e.to_string()))?;
    }
    let mut conn = pool::connect_within(&config.url, schema, "", config.connect_timeout)
        .await
        .map_err(|e| ImportError::Target(format!("cannot connect: {e}")))?;
    if dry_run {
        check_migrated(&mut conn, schema).await?;
    }
    Ok(conn)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Refuses a target that lacks migrations this binary has (a dry run cannot apply them).
async fn check_migrated(conn: &mut AsyncPgConnection, schema: &str) -> Result<(), ImportError> {
    let known = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| ImportError::Target(e.to_string()))?
        .len();
    let table = format!("{schema}.__diesel_schema_migrations");
    let exists: Count = diesel::sql_query("SELECT count(to_regclass($1)) AS n")
        .bind::<Text, _>(&table)
        .get_result(conn)
        .await
        .map_err(target_error)?;
    let applied = if exists.n == 0 {
        0
    } else {
        let applied: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(conn)
            .await
            .map_err(target_error)?;
        applied.n
    };
    if usize::try_from(applied).unwrap_or_default() < known {
        return Err(ImportError::NotMigrated);
    }
    Ok(())
}

pub(crate) fn target_error(e: diesel::result::Error) -> ImportError {
    ImportError::Target(e.to_string())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Writes the users the target lacks; returns the ids it wrote. A user the target has is
/// left as it is (the host's token may have named it since).
pub(crate) async fn write_users(
    conn: &mut AsyncPgConnection,
    users: &[UserRecord],
) -> Result<Vec<i64>, diesel::result::Error> {
    const INSERT: &str = "
        INSERT INTO users (id, username, username_key)
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
        ON CONFLICT (id) DO NOTHING
        RETURNING id";
    let rows: Vec<Id> = diesel::sql_query(INSERT)
        .bind::<Array<BigInt>, _>(users.iter().map(|u| u.id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(
            users
                .iter()
                .map(|u| u.username.as_str())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Text>, _>(
            users
                .iter()
                .map(|u| u.username_key.as_str())
                .collect::<Vec<_>>(),
        )
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

#[derive(QueryableByName)]
struct Existing {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    low: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    high: Option<i64>,
}

/// What the target holds of a batch of conversations, by id and by pair.
pub(crate) struct ConversationsThere {
    by_id: HashMap<i64, (Option<i64>, Option<i64>)>,
    by_pair: HashMap<(i64, i64), i64>,
}

impl ConversationsThere {
    /// The target's conversation with this id, as its pair (`None` for a group).
    pub(crate) fn with_id(&self, id: i64) -> Option<Option<(i64, i64)>> {
        self.by_id.get(&id).map(|(low, high)| low.zip(*high))
    }

    /// The target's direct conversation of this pair.
    pub(crate) fn of_pair(&self, low: i64, high: i64) -> Option<i64> {
        self.by_pair.get(&(low, high)).copied()
    }
}

/// Reads the target's conversations that share an id or a pair with the batch.
pub(crate) async fn conversations_there(
    conn: &mut AsyncPgConnection,
    batch: &[ConversationRecord],
) -> Result<ConversationsThere, diesel::result::Error> {
    const FIND: &str = "
        SELECT id, direct_user_low AS low, direct_user_high AS high FROM conversations
         WHERE id = ANY($1)
            OR (direct_user_low, direct_user_high) IN
               (SELECT * FROM unnest($2::bigint[], $3::bigint[]))";
    let rows: Vec<Existing> = diesel::sql_query(FIND)
        .bind::<Array<BigInt>, _>(batch.iter().map(|c| c.id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(batch.iter().map(|c| c.low).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(batch.iter().map(|c| c.high).collect::<Vec<_>>())
        .load(conn)
        .await?;
    let mut there = ConversationsThere {
        by_id: HashMap::new(),
        by_pair: HashMap::new(),
    };
    for row in rows {
        if let (Some(low), Some(high)) = (row.low, row.high) {
            there.by_pair.insert((low, high), row.id);
        }
        there.by_id.insert(row.id, (row.low, row.high));
    }
    Ok(there)
}

/// Writes new direct conversations with their ids, and both members of each (who joined when
/// the conversation was created, and have read nothing yet).
pub(crate) async fn write_conversations(
    conn: &mut AsyncPgConnection,
    new: &[ConversationRecord],
) -> Result<(), diesel::result::Error> {
    const INSERT: &str = "
        WITH c AS (
            INSERT INTO conversations (id, kind, direct_user_low, direct_user_high, created_at,
                                       updated_at)
            OVERRIDING SYSTEM VALUE
            SELECT v.id, 'direct', v.low, v.high, v.created_at, v.updated_at
              FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[],
                          $5::timestamptz[]) AS v(id, low, high, created_at, updated_at)
            RETURNING id, direct_user_low, direct_user_high, created_at
        )
        INSERT INTO conversation_members (conversation_id, user_id, joined_at)
        SELECT c.id, m.user_id, c.created_at
          FROM c CROSS JOIN LATERAL (VALUES (c.direct_user_low), (c.direct_user_high)) AS m(user_id)";
    if new.is_empty() {
        return Ok(());
    }
    diesel::sql_query(INSERT)
        .bind::<Array<BigInt>, _>(new.iter().map(|c| c.id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(new.iter().map(|c| c.low).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(new.iter().map(|c| c.high).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(new.iter().map(|c| c.created_at).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(new.iter().map(|c| c.updated_at).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Placed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    conversation_id: i64,
}

/// The conversation of each message of the batch that the target already holds.
pub(crate) async fn messages_there(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> Result<HashMap<i64, i64>, diesel::result::Error> {
    let rows: Vec<Placed> =
        diesel::sql_query("SELECT id, conversation_id FROM messages WHERE id = ANY($1)")
            .bind::<Array<BigInt>, _>(ids)
            .load(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.conversation_id))
        .collect())
}

#[derive(QueryableByName)]
struct LastSeq {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// Writes new messages after their conversations' last seq, in the order given (each
/// conversation's in creation order); keeps counters, previews and read watermarks right.
/// Returns how many watermarks moved.
pub(crate) async fn write_messages(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
) -> Result<u64, diesel::result::Error> {
    if new.is_empty() {
        return Ok(0);
    }
    // The conversations' rows, locked, give each its next seq as a send would take it.
    let mut conversation_ids: Vec<i64> = new.iter().map(|m| m.conversation_id).collect();
    conversation_ids.dedup();
    let locked: Vec<LastSeq> = diesel::sql_query(
        "SELECT id, last_seq FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind::<Array<BigInt>, _>(&conversation_ids)
    .load(conn)
    .await?;
    let mut last_seq: HashMap<i64, i64> = locked.into_iter().map(|r| (r.id, r.last_seq)).collect();
    let seqs: Vec<i64> = new
        .iter()
        .map(|m| {
            let seq = last_seq.entry(m.conversation_id).or_default();
            *seq += 1;
            *seq
        })
        .collect();
    insert_messages(conn, new, &seqs).await?;
    update_conversations(conn, new, &seqs).await?;
    move_watermarks(conn, new, &seqs).await
}

async fn insert_messages(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
    seqs: &[i64],
) -> Result<(), diesel::result::Error> {
    const INSERT: &str = "
        INSERT INTO messages (id, conversation_id, seq, sender_id, content, attachment_url,
                              deleted_at, created_at, updated_at)
        OVERRIDING SYSTEM VALUE
        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                             $6::text[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[])";
    diesel::sql_query(INSERT)
        .bind::<Array<BigInt>, _>(new.iter().map(|m| m.id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(new.iter().map(|m| m.conversation_id).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(seqs)
        .bind::<Array<BigInt>, _>(new.iter().map(|m| m.sender_id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(new.iter().map(|m| m.content.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(
            new.iter()
                .map(|m| m.attachment_url.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Timestamptz>>, _>(
            new.iter().map(|m| m.deleted_at).collect::<Vec<_>>(),
        )
        .bind::<Array<Timestamptz>, _>(new.iter().map(|m| m.created_at).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(new.iter().map(|m| m.updated_at).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(())
}

/// Per conversation of the batch: its new last seq, its new visible messages, its newest
/// visible message (the preview) and the time of its newest message.
#[derive(Default)]
struct ConversationChange<'a> {
    last_seq: i64,
    visible: i64,
    preview: Option<(i64, &'a str)>,
    newest_at: Option<DateTime<Utc>>,
}

async fn update_conversations(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
    seqs: &[i64],
) -> Result<(), diesel::result::Error> {
    // A deletion keeps last_message_at (it is when the conversation last had a message sent),
    // as the server's own deletions do.
    const UPDATE: &str = "
        UPDATE conversations c
           SET last_seq = v.last_seq, message_count = c.message_count + v.visible,
               last_message_seq = COALESCE(v.preview_seq, c.last_message_seq),
               last_message = CASE WHEN v.preview_seq IS NULL THEN c.last_message
                                   ELSE v.preview END,
               last_message_at = GREATEST(c.last_message_at, v.newest_at),
               updated_at = GREATEST(c.updated_at, v.newest_at)
          FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                      $6::timestamptz[]) AS v(id, last_seq, visible, preview_seq, preview, newest_at)
         WHERE c.id = v.id";
    let mut order: Vec<i64> = Vec::new();
    let mut changes: HashMap<i64, ConversationChange<'_>> = HashMap::new();
    for (message, seq) in new.iter().zip(seqs) {
        let change = changes.entry(message.conversation_id).or_insert_with(|| {
            order.push(message.conversation_id);
            ConversationChange::default()
        });
        change.last_seq = *seq;
        change.newest_at = change.newest_at.max(Some(message.created_at));
        if message.deleted_at.is_none() {
            change.visible += 1;
            change.preview = Some((*seq, message.content.as_str()));
        }
    }
    let changes: Vec<&ConversationChange<'_>> =
        order.iter().filter_map(|id| changes.get(id)).collect();
    diesel::sql_query(UPDATE)
        .bind::<Array<BigInt>, _>(&order)
        .bind::<Array<BigInt>, _>(changes.iter().map(|c| c.last_seq).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(changes.iter().map(|c| c.visible).collect::<Vec<_>>())
        .bind::<Array<Nullable<BigInt>>, _>(
            changes
                .iter()
                .map(|c| c.preview.map(|p| p.0))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            changes
                .iter()
                .map(|c| c.preview.map(|p| p.1))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Timestamptz>>, _>(
            changes.iter().map(|c| c.newest_at).collect::<Vec<_>>(),
        )
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves each reader's watermark to the newest message of the batch the source marks read
/// for them (`is_read`), with its `read_at`; a watermark never moves back.
async fn move_watermarks(
    conn: &mut AsyncPgConnection,
    new: &[MessageRecord],
    seqs: &[i64],
) -> Result<u64, diesel::result::Error> {
    const UPDATE: &str = "
        UPDATE conversation_members m SET last_read_seq = v.seq, last_read_at = v.read_at
          FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[])
               AS v(conversation_id, user_id, seq, read_at)
         WHERE m.conversation_id = v.conversation_id AND m.user_id = v.user_id
           AND m.last_read_seq < v.seq";
    let mut newest: HashMap<(i64, i64), (i64, DateTime<Utc>)> = HashMap::new();
    for (message, seq) in new.iter().zip(seqs) {
        if let Some(read_at) = message.read {
            newest.insert(
                (message.conversation_id, message.reader_id),
                (*seq, read_at),
            );
        }
    }
    if newest.is_empty() {
        return Ok(0);
    }
    let (keys, values): (Vec<_>, Vec<_>) = newest.into_iter().unzip();
    let moved = diesel::sql_query(UPDATE)
        .bind::<Array<BigInt>, _>(keys.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(keys.iter().map(|k| k.1).collect::<Vec<_>>())
        .bind::<Array<BigInt>, _>(values.iter().map(|v| v.0).collect::<Vec<_>>())
        .bind::<Array<Timestamptz>, _>(values.iter().map(|v| v.1).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    Ok(u64::try_from(moved).unwrap_or_default())
}

/// The tables whose ids the import writes, and whose identity sequences it advances.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Identity {
    Users,
    Conversations,
    Messages,
}

/// Moves the table's identity sequence past its highest id and past `floor` (the highest id
/// the source used, skipped rows included), never back, so that the next row the server
/// creates gets an id that neither table has used. Sequences are not transactional: run only
/// when the writes are kept (never in a dry run).
pub(crate) async fn advance_identity(
    conn: &mut AsyncPgConnection,
    table: Identity,
    floor: i64,
) -> Result<(), diesel::result::Error> {
    let table = match table {
        Identity::Users => "users",
        Identity::Conversations => "conversations",
        Identity::Messages => "messages",
    };
    let advance = format!(
        "SELECT setval(s.name, GREATEST(t.top, $1,
                                        COALESCE(pg_sequence_last_value(s.name::regclass), 0)))
           FROM (SELECT pg_get_serial_sequence('{table}', 'id') AS name) s,
                (SELECT COALESCE(max(id), 0) AS top FROM {table}) t
          WHERE GREATEST(t.top, $1) > 0"
    );
    diesel::sql_query(advance)
        .bind::<BigInt, _>(floor)
        .execute(conn)
        .await?;
    Ok(())
}
