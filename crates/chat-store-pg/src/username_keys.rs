//! Case keys ([`chat_domain::case_key`]) for names written before the key columns existed:
//! SQL cannot compute the same folding, so the server fills them in at start-up, in batches,
//! before it serves. Idempotent, and safe when several nodes start at once (each only fills
//! keys that are still missing).

use chat_domain::case_key;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::StoreError;

/// Rows read and written per statement.
const BATCH: i64 = 1000;

/// Joins a name's key to its user id when two accounts' names fold to one key (possible only
/// for accounts made before this rule, e.g. `Straße` and `STRASSE`): U+2060 WORD JOINER, which
/// no parsed username contains, so the second account can still be found by an operator but is
/// never matched by a login.
const DUPLICATE_MARK: char = '\u{2060}';

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    username: String,
}

fn failed(error: &DieselError) -> StoreError {
    StoreError::Migrate(format!("filling in username keys: {error}"))
}

/// The users whose key is missing, a batch at a time.
const USERS_WITHOUT_KEY: &str =
    "SELECT id, username FROM users WHERE username_key IS NULL ORDER BY id LIMIT $1";
/// Sets the keys of users `$1` to `$2`.
const SET_USER_KEYS: &str = "UPDATE users SET username_key = v.key
   FROM unnest($1::bigint[], $2::text[]) AS v(id, key)
  WHERE users.id = v.id AND users.username_key IS NULL";
/// The accounts whose key is missing, with their users' names, a batch at a time.
const ACCOUNTS_WITHOUT_KEY: &str =
    "SELECT a.user_id AS id, u.username FROM accounts a JOIN users u ON u.id = a.user_id
      WHERE a.username_key IS NULL ORDER BY a.user_id LIMIT $1";
/// Sets the keys of accounts `$1` to `$2`.
const SET_ACCOUNT_KEYS: &str = "UPDATE accounts SET username_key = v.key
   FROM unnest($1::bigint[], $2::text[]) AS v(id, key)
  WHERE accounts.user_id = v.id AND accounts.username_key IS NULL";

/// Fills in every missing key of `users` and `accounts`; returns how many rows it wrote.
pub(crate) async fn fill_missing(conn: &mut AsyncPgConnection) -> Result<usize, StoreError> {
    let mut written = 0;
    while let Some(rows) = next_batch(conn, USERS_WITHOUT_KEY).await? {
        written += set_keys(conn, SET_USER_KEYS, &rows)
            .await
            .map_err(|e| failed(&e))?;
    }
    while let Some(rows) = next_batch(conn, ACCOUNTS_WITHOUT_KEY).await? {
        match set_keys(conn, SET_ACCOUNT_KEYS, &rows).await {
            Ok(n) => written += n,
            // Two names of the batch fold alike: one row at a time, so only the later fails.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                for row in rows {
                    written += fill_account(conn, row).await?;
                }
            }
            Err(e) => return Err(failed(&e)),
        }
    }
    Ok(written)
}

/// The next rows `select` finds (it takes the batch size as `$1`), or `None` when none is left.
async fn next_batch(
    conn: &mut AsyncPgConnection,
    select: &'static str,
) -> Result<Option<Vec<Named>>, StoreError> {
    let rows: Vec<Named> = diesel::sql_query(select)
        .bind::<BigInt, _>(BATCH)
        .load(conn)
        .await
        .map_err(|e| failed(&e))?;
    Ok((!rows.is_empty()).then_some(rows))
}

/// Writes the case keys of `rows` with `update` (ids as `$1`, keys as `$2`).
async fn set_keys(
    conn: &mut AsyncPgConnection,
    update: &'static str,
    rows: &[Named],
) -> Result<usize, DieselError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let keys: Vec<String> = rows.iter().map(|r| case_key(&r.username)).collect();
    diesel::sql_query(update)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Text>, _>(&keys)
        .execute(conn)
        .await
}

/// One account's key, on its own so that a duplicate key fails alone.
async fn fill_account(conn: &mut AsyncPgConnection, row: Named) -> Result<usize, StoreError> {
    const SET: &str =
        "UPDATE accounts SET username_key = $2 WHERE user_id = $1 AND username_key IS NULL";
    let key = case_key(&row.username);
    let set = |key: String| {
        diesel::sql_query(SET)
            .bind::<BigInt, _>(row.id)
            .bind::<Text, _>(key)
    };
    match set(key.clone()).execute(conn).await {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            tracing::warn!(
                user = row.id,
                "two accounts' usernames are the same ignoring case; this one cannot log in by name until renamed"
            );
            set(format!("{key}{DUPLICATE_MARK}{}", row.id))
                .execute(conn)
                .await
                .map_err(|e| failed(&e))
        }
        other => other.map_err(|e| failed(&e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chat_domain::{
        AccountRepo, Directory, Limits, PageRequest, SearchQuery, UserRepo, Username,
    };
    use diesel_async::{AsyncConnection, SimpleAsyncConnection};

    use super::*;
    use crate::test_support::TestDatabase;

    /// Rows as a server before the key columns left them (the migration empties account keys).
    const OLD_ROWS: &str = "
        SET search_path TO chat;
        INSERT INTO users (id, username) VALUES (1, 'Straße'), (2, 'STRASSE'), (3, 'ΝΙΚΟΣ'), (4, 'viewer');
        INSERT INTO accounts (user_id, password_hash) VALUES (1, 'h1'), (2, 'h2');";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn names_written_before_the_keys_are_keyed_at_start_up() {
        let db = TestDatabase::create().await;
        let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
        conn.batch_execute(OLD_ROWS).await.unwrap();
        let store = db.store().await;
        let term = SearchQuery::parse("νικος", &Limits::default()).unwrap();
        let page = PageRequest { page: 1, limit: 10 };
        let found = store
            .search_users(
                chat_domain::UserId(4),
                Some(&term),
                page,
                Directory::Everyone,
            )
            .await
            .unwrap();
        assert_eq!(found.items.len(), 1, "{found:?}");
        let (first, hash) = store
            .account(&Username::parse("strasse").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (first.id.get(), hash.as_str()),
            (1, "h1"),
            "the older account keeps the name"
        );
        conn.batch_execute("INSERT INTO accounts (user_id, password_hash) VALUES (4, 'h4')")
            .await
            .unwrap();
        assert_eq!(
            fill_missing(&mut conn).await.unwrap(),
            1,
            "a batch without duplicates"
        );
        let (viewer, _) = store
            .account(&Username::parse("VIEWER").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(viewer.id.get(), 4);
        assert_eq!(
            fill_missing(&mut conn).await.unwrap(),
            0,
            "nothing left to fill"
        );
    }
}
