//! The users port: profiles, provisioning from tokens, and the directory.

use chat_domain::{
    ChatError, Directory, PageRequest, Paged, SearchQuery, UpsertUser, User, UserId, UserRepo,
    Username, case_key,
};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

use crate::pool::PgConn;
use crate::rows::UserRow;
use crate::schema::users;
use crate::{PgStore, query_error};

/// Creates the user (named `$2`, keyed `$3`), or renames it when a name is given (`$4`) and
/// differs; returns nothing when the user exists and stays as it is (the caller then reads it
/// on the same connection).
const ENSURE: &str = "
INSERT INTO users (id, username, username_key) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username,
       username_key = EXCLUDED.username_key, updated_at = now()
 WHERE $4 AND users.username IS DISTINCT FROM EXCLUDED.username
RETURNING id, username, display_name, avatar_url, created_at, updated_at";

/// Users who share a conversation with `$1`.
const CONTACTS: &str = "u.id IN (SELECT other.user_id
                  FROM conversation_members mine
                  JOIN conversation_members other ON other.conversation_id = mine.conversation_id
                 WHERE mine.user_id = $1)";

/// The bounds of a case-insensitive prefix range over `username_key` (the names' case keys,
/// [`chat_domain::case_key`]), compared bytewise (`~>=~`, `~<~`) so that the
/// `text_pattern_ops` index serves it under any collation.
fn prefix_range(prefix: Option<&SearchQuery>) -> (String, String) {
    let low = prefix.map(SearchQuery::key).unwrap_or_default();
    let high = format!("{low}{}", char::MAX);
    (low, high)
}

/// The user with this id, read on a connection the caller already holds.
async fn user_on(conn: &mut PgConn, id: UserId) -> Result<Option<UserRow>, ChatError> {
    users::table
        .find(id.get())
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
        .map_err(query_error)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl UserRepo for PgStore {
    async fn upsert_user(&self, user: UpsertUser) -> Result<User, ChatError> {
        let mut written = self.upsert_users(vec![user]).await?;
        written
            .pop()
            .ok_or_else(|| ChatError::Internal("upsert returned no row".into()))
    }

    async fn upsert_users(&self, users: Vec<UpsertUser>) -> Result<Vec<User>, ChatError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<_> = users
            .iter()
            .map(|u| {
                (
                    users::id.eq(u.id.get()),
                    users::username.eq(u.username.as_str()),
                    users::username_key.eq(u.username.key()),
                    users::display_name.eq(u.display_name.as_deref()),
                    users::avatar_url.eq(u.avatar_url.as_deref()),
                )
            })
            .collect();
        let mut conn = self.conn().await?;
        diesel::insert_into(users::table)
            .values(&rows)
            .on_conflict(users::id)
            .do_update()
            .set((
                users::username.eq(excluded(users::username)),
                users::username_key.eq(excluded(users::username_key)),
                users::display_name.eq(excluded(users::display_name)),
                users::avatar_url.eq(excluded(users::avatar_url)),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .returning(UserRow::as_returning())
            .get_results(&mut conn)
            .await
            .map(|rows| rows.into_iter().map(User::from).collect())
            .map_err(query_error)
    }

    async fn ensure_user(&self, id: UserId, username: Option<Username>) -> Result<User, ChatError> {
        let renames = username.is_some();
        let name = username.map_or_else(|| format!("user{id}"), |n| n.as_str().to_owned());
        // One connection for both statements: asking the pool for a second one while holding
        // this one deadlocks a pool that every request of a reconnect storm holds.
        let mut conn = self.conn().await?;
        let written: Option<UserRow> = diesel::sql_query(ENSURE)
            .bind::<BigInt, _>(id.get())
            .bind::<Text, _>(&name)
            .bind::<Text, _>(case_key(&name))
            .bind::<Bool, _>(renames)
            .get_result(&mut conn)
            .await
            .optional()
            .map_err(query_error)?;
        let user = match written {
            Some(row) => Some(row),
            None => user_on(&mut conn, id).await?,
        };
        user.map(User::from)
            .ok_or_else(|| ChatError::Internal("provisioned user vanished".into()))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, ChatError> {
        let mut conn = self.conn().await?;
        Ok(user_on(&mut conn, id).await?.map(User::from))
    }

    async fn search_users(
        &self,
        viewer: UserId,
        prefix: Option<&SearchQuery>,
        page: PageRequest,
        directory: Directory,
    ) -> Result<Paged<User>, ChatError> {
        let scope = match directory {
            Directory::Everyone => "true",
            Directory::Contacts => CONTACTS,
        };
        let matching = format!(
            "FROM users u WHERE u.id <> $1 AND u.username_key ~>=~ $2 \
             AND u.username_key ~<~ $3 AND {scope}"
        );
        let (low, high) = prefix_range(prefix);
        let mut conn = self.conn().await?;
        let total: Count = diesel::sql_query(format!("SELECT count(*) AS n {matching}"))
            .bind::<BigInt, _>(viewer.get())
            .bind::<Text, _>(&low)
            .bind::<Text, _>(&high)
            .get_result(&mut conn)
            .await
            .map_err(query_error)?;
        let rows: Vec<UserRow> = diesel::sql_query(format!(
            "SELECT u.* {matching} ORDER BY u.username_key, u.id LIMIT $4 OFFSET $5"
        ))
        .bind::<BigInt, _>(viewer.get())
        .bind::<Text, _>(&low)
        .bind::<Text, _>(&high)
        .bind::<BigInt, _>(i64::from(page.limit))
        .bind::<BigInt, _>(page.offset())
        .load(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(Paged {
            items: rows.into_iter().map(User::from).collect(),
            total: total.n,
        })
    }

    async fn contacts(&self, user: UserId) -> Result<Vec<UserId>, ChatError> {
        #[derive(QueryableByName)]
        struct Contact {
            #[diesel(sql_type = BigInt)]
            user_id: i64,
        }
        let mut conn = self.conn().await?;
        let rows: Vec<Contact> = diesel::sql_query(
            "SELECT DISTINCT other.user_id
               FROM conversation_members mine
               JOIN conversation_members other ON other.conversation_id = mine.conversation_id
              WHERE mine.user_id = $1 AND other.user_id <> $1
              ORDER BY other.user_id",
        )
        .bind::<BigInt, _>(user.get())
        .load(&mut conn)
        .await
        .map_err(query_error)?;
        Ok(rows.into_iter().map(|r| UserId(r.user_id)).collect())
    }

    async fn visible_user(
        &self,
        viewer: UserId,
        id: UserId,
        directory: Directory,
    ) -> Result<Option<User>, ChatError> {
        let mut conn = self.conn().await?;
        if directory == Directory::Everyone || viewer == id {
            return Ok(user_on(&mut conn, id).await?.map(User::from));
        }
        diesel::sql_query(format!(
            "SELECT u.* FROM users u WHERE u.id = $2 AND {CONTACTS}"
        ))
        .bind::<BigInt, _>(viewer.get())
        .bind::<BigInt, _>(id.get())
        .get_result::<UserRow>(&mut conn)
        .await
        .optional()
        .map(|row| row.map(User::from))
        .map_err(query_error)
    }
}
