//! The accounts port: built-in usernames and password hashes.

use chat_domain::{AccountRepo, ChatError, User, Username};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::rows::UserRow;
use crate::schema::{accounts, users};
use crate::{PgStore, query_error};

/// Ids the host application assigned itself may already occupy what the identity sequence
/// hands out next: after a collision the sequence is moved past the largest id, and the insert
/// tried again (more than once only when ids keep being provisioned meanwhile).
const ID_ATTEMPTS: usize = 4;

/// Moves the id sequence of `users` past every id in use; never moves it back.
const SKIP_TAKEN_IDS: &str = "
SELECT setval(pg_get_serial_sequence('users', 'id'),
              GREATEST((SELECT max(id) FROM users), 1))";

impl AccountRepo for PgStore {
    async fn create_account(
        &self,
        username: Username,
        password_hash: String,
    ) -> Result<User, ChatError> {
        let key = username.key();
        let mut conn = self.conn().await?;
        let created = conn
            .transaction::<Option<UserRow>, DieselError, _>(async |conn| {
                let mut user = None;
                for _ in 0..ID_ATTEMPTS {
                    user = diesel::insert_into(users::table)
                        .values((
                            users::username.eq(username.as_str()),
                            users::username_key.eq(&key),
                        ))
                        .on_conflict(users::id)
                        .do_nothing()
                        .returning(UserRow::as_returning())
                        .get_result(conn)
                        .await
                        .optional()?;
                    if user.is_some() {
                        break;
                    }
                    diesel::sql_query(SKIP_TAKEN_IDS).execute(conn).await?;
                }
                let Some(user) = user else {
                    return Ok(None);
                };
                diesel::insert_into(accounts::table)
                    .values((
                        accounts::user_id.eq(user.id()),
                        accounts::username_key.eq(&key),
                        accounts::password_hash.eq(&password_hash),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Some(user))
            })
            .await
            .map_err(query_error)?;
        created
            .map(User::from)
            .ok_or_else(|| ChatError::Internal("no free user id for a new account".into()))
    }

    async fn account(&self, username: &Username) -> Result<Option<(User, String)>, ChatError> {
        let mut conn = self.conn().await?;
        accounts::table
            .inner_join(users::table)
            .filter(accounts::username_key.eq(username.key()))
            .select((UserRow::as_select(), accounts::password_hash))
            .first::<(UserRow, String)>(&mut conn)
            .await
            .optional()
            .map(|found| found.map(|(user, hash)| (user.into(), hash)))
            .map_err(query_error)
    }
}
