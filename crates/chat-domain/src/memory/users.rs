//! Users and built-in accounts in the in-memory state.

use chrono::{DateTime, Utc};

use super::state::State;
use crate::{
    ChatError, Directory, PageRequest, Paged, SearchQuery, UpsertUser, User, UserId, Username,
    case_key,
};

impl State {
    pub(super) fn upsert_user(&mut self, user: UpsertUser, now: DateTime<Utc>) -> User {
        let stored = self.users.entry(user.id).or_insert_with(|| User {
            id: user.id,
            username: String::new(),
            display_name: None,
            avatar_url: None,
            created_at: now,
            updated_at: now,
        });
        stored.username = user.username.as_str().to_owned();
        stored.display_name = user.display_name;
        stored.avatar_url = user.avatar_url;
        stored.updated_at = now;
        stored.clone()
    }

    pub(super) fn ensure_user(
        &mut self,
        id: UserId,
        username: Option<Username>,
        now: DateTime<Utc>,
    ) -> User {
        let stored = self.users.entry(id).or_insert_with(|| User {
            id,
            username: format!("user{id}"),
            display_name: None,
            avatar_url: None,
            created_at: now,
            updated_at: now,
        });
        if let Some(name) = username
            && stored.username != name.as_str()
        {
            stored.username = name.as_str().to_owned();
            stored.updated_at = now;
        }
        stored.clone()
    }

    /// Everyone who shares a conversation with `user`, by id.
    pub(super) fn contacts(&self, user: UserId) -> Vec<UserId> {
        let mut contacts: Vec<UserId> = self
            .conversations_with(user)
            .flat_map(|conversation| self.members_of(conversation))
            .filter(|member| *member != user)
            .collect();
        contacts.sort_unstable();
        contacts.dedup();
        contacts
    }

    /// Whether `viewer` may see `other` in a contacts-only directory.
    pub(super) fn knows(&self, viewer: UserId, other: UserId) -> bool {
        viewer == other
            || self
                .conversations_with(viewer)
                .any(|conversation| self.is_member(conversation, other))
    }

    pub(super) fn search_users(
        &self,
        viewer: UserId,
        prefix: Option<&SearchQuery>,
        page: PageRequest,
        directory: Directory,
    ) -> Paged<User> {
        let prefix = prefix.map(SearchQuery::key);
        let mut found: Vec<&User> = self
            .users
            .values()
            .filter(|u| u.id != viewer)
            .filter(|u| {
                prefix
                    .as_deref()
                    .is_none_or(|p| case_key(&u.username).starts_with(p))
            })
            .filter(|u| directory == Directory::Everyone || self.knows(viewer, u.id))
            .collect();
        found.sort_by_cached_key(|u| (case_key(&u.username), u.id));
        Paged {
            total: i64::try_from(found.len()).unwrap_or(i64::MAX),
            items: found
                .into_iter()
                .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
                .take(page.limit as usize)
                .cloned()
                .collect(),
        }
    }

    pub(super) fn create_account(
        &mut self,
        username: Username,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> Result<User, ChatError> {
        let key = username.key();
        if self.accounts.contains_key(&key) {
            return Err(ChatError::Conflict("the username is taken".into()));
        }
        let id = UserId(self.users.keys().next_back().map_or(1, |last| last.0 + 1));
        let user = self.upsert_user(
            UpsertUser {
                id,
                username,
                display_name: None,
                avatar_url: None,
            },
            now,
        );
        self.accounts.insert(key, (id, password_hash));
        Ok(user)
    }

    pub(super) fn account(&self, username: &Username) -> Option<(User, String)> {
        let (id, hash) = self.accounts.get(&username.key())?;
        Some((self.users.get(id)?.clone(), hash.clone()))
    }
}
