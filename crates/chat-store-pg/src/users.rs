//! The users port.

use chat_domain::{ChatError, UpsertUser, User, UserId, UserRepo};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

use crate::rows::UserRow;
use crate::schema::users;
use crate::{PgStore, query_error};

impl UserRepo for PgStore {
    async fn upsert_user(&self, user: UpsertUser) -> Result<User, ChatError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(users::table)
            .values((
                users::id.eq(user.id.get()),
                users::username.eq(user.username.as_str()),
                users::display_name.eq(user.display_name.as_deref()),
                users::avatar_url.eq(user.avatar_url.as_deref()),
            ))
            .on_conflict(users::id)
            .do_update()
            .set((
                users::username.eq(excluded(users::username)),
                users::display_name.eq(excluded(users::display_name)),
                users::avatar_url.eq(excluded(users::avatar_url)),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .returning(UserRow::as_returning())
            .get_result(&mut conn)
            .await
            .map(User::from)
            .map_err(query_error)
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, ChatError> {
        let mut conn = self.conn().await?;
        users::table
            .find(id.get())
            .select(UserRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map(|row| row.map(User::from))
            .map_err(query_error)
    }
}
