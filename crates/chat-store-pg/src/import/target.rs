//! The server's own database: opened and migrated as at start-up, and written a batch at a
//! time (messages in `messages.rs`). Each function here runs inside the caller's transaction (one per batch), reads what
//! the target already holds for the batch's ids, and writes only what is new, so that a batch
//! run twice writes nothing the second time.

use std::collections::HashMap;

use diesel::QueryableByName;
use diesel::migration::MigrationSource;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::ImportError;
use super::validate::{ConversationRecord, UserRecord};
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
