//! Groups in the memory store: creation and changes, with the same rules and events as the
//! PostgreSQL store.

use chrono::{DateTime, Utc};

use super::MemoryStore;
use super::state::{State, StoredConversation, StoredMember, empty_conversation};
use crate::{
    ChatError, ChatEvent, ConversationChanged, ConversationId, ConversationKind, Entity,
    GroupChange, GroupRepo, GroupWrite, MemberChanged, NewGroup, Role, Seniority, StreamEvent,
    UserId, UserRef, authorize, keeps_an_owner, successor,
};

impl GroupRepo for MemoryStore {
    async fn create_group(&self, group: NewGroup) -> Result<GroupWrite, ChatError> {
        self.lock().create_group(group, Utc::now())
    }

    async fn change_group(
        &self,
        actor: UserId,
        id: ConversationId,
        change: GroupChange,
    ) -> Result<Option<GroupWrite>, ChatError> {
        self.lock().change_group(actor, id, change, Utc::now())
    }
}

impl State {
    fn unknown_users(
        &self,
        field: &'static str,
        ids: impl Iterator<Item = UserId>,
    ) -> Result<(), ChatError> {
        let mut unknown: Vec<UserId> = ids.filter(|id| !self.users.contains_key(id)).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort_unstable();
        Err(ChatError::UnknownUsers {
            field,
            ids: unknown,
        })
    }

    pub(super) fn user_ref(&self, id: UserId) -> UserRef {
        UserRef {
            id,
            username: self
                .users
                .get(&id)
                .map(|u| u.username.clone())
                .unwrap_or_default(),
        }
    }

    /// Records an event and returns it with its position.
    fn announce(&mut self, event: ChatEvent) -> StreamEvent {
        let position = self.record(event.clone());
        StreamEvent { position, event }
    }

    fn member_event(
        &mut self,
        conversation_id: ConversationId,
        user: UserId,
        role: Role,
        by: UserId,
    ) -> MemberChanged {
        MemberChanged {
            conversation_id,
            member: self.user_ref(user),
            role,
            by,
        }
    }

    pub(super) fn create_group(
        &mut self,
        group: NewGroup,
        now: DateTime<Utc>,
    ) -> Result<GroupWrite, ChatError> {
        let request = group
            .client_request_id
            .as_ref()
            .map(|id| (group.creator, id.as_str().to_owned()));
        if let Some(id) = request.as_ref().and_then(|r| self.group_requests.get(r)) {
            return Ok(GroupWrite {
                conversation: self.detail(*id),
                events: Vec::new(),
            });
        }
        let everyone = group.members.iter().copied().chain([group.creator]);
        self.unknown_users("memberIds", everyone)?;
        self.last_conversation_id += 1;
        let id = ConversationId(self.last_conversation_id);
        let mut conversation = empty_conversation(id, now);
        conversation.kind = ConversationKind::Group;
        conversation.title = Some(group.title.as_str().to_owned());
        let stored = StoredConversation {
            conversation,
            last_message_seq: None,
        };
        self.conversations.insert(id, stored);
        self.members
            .insert((id, group.creator), StoredMember::new(Role::Owner, now));
        for user in group.members {
            self.members
                .insert((id, user), StoredMember::new(Role::Member, now));
        }
        if let Some(request) = request {
            self.group_requests.insert(request, id);
        }
        let conversation = self.detail(id);
        let created = self.announce(ChatEvent::ConversationCreated(ConversationChanged {
            conversation: conversation.clone(),
            by: group.creator,
        }));
        Ok(GroupWrite {
            conversation,
            events: vec![created],
        })
    }

    pub(super) fn change_group(
        &mut self,
        actor: UserId,
        id: ConversationId,
        change: GroupChange,
        now: DateTime<Utc>,
    ) -> Result<Option<GroupWrite>, ChatError> {
        let (Some(stored), Some(me)) =
            (self.conversations.get(&id), self.members.get(&(id, actor)))
        else {
            return Ok(None);
        };
        let target = match &change {
            GroupChange::RemoveMember(user) | GroupChange::SetRole(user, _) => Some(*user),
            GroupChange::Update(_) | GroupChange::AddMembers(_) => None,
        };
        let target_role = target.and_then(|user| self.members.get(&(id, user)).map(|m| m.role));
        authorize(
            stored.conversation.kind,
            actor,
            me.role,
            &change,
            target_role,
        )?;
        let events = match change {
            GroupChange::Update(patch) => {
                let Some(stored) = self.conversations.get_mut(&id) else {
                    return Ok(None);
                };
                let c = &mut stored.conversation;
                let title = patch
                    .title
                    .map(|t| t.as_str().to_owned())
                    .or(c.title.clone());
                let avatar = patch
                    .avatar_url
                    .map_or(c.avatar_url.clone(), |a| a.map(|u| u.as_str().to_owned()));
                if (&title, &avatar) == (&c.title, &c.avatar_url) {
                    Vec::new()
                } else {
                    (c.title, c.avatar_url, c.updated_at) = (title, avatar, now);
                    let conversation = self.detail(id);
                    vec![
                        self.announce(ChatEvent::ConversationUpdated(ConversationChanged {
                            conversation,
                            by: actor,
                        })),
                    ]
                }
            }
            GroupChange::AddMembers(users) => {
                self.unknown_users("userIds", users.iter().copied())?;
                let mut events = Vec::new();
                let read = stored.conversation.last_seq;
                for user in users {
                    if self.members.contains_key(&(id, user)) {
                        continue;
                    }
                    // What was sent before they joined does not count as unread.
                    let mut member = StoredMember::new(Role::Member, now);
                    member.last_read_seq = read;
                    self.members.insert((id, user), member);
                    let added = self.member_event(id, user, Role::Member, actor);
                    events.push(self.announce(ChatEvent::MemberAdded(added)));
                }
                events
            }
            GroupChange::RemoveMember(user) => {
                let Some(role) = target_role else {
                    return Err(ChatError::not_found(Entity::User));
                };
                let removed = self.member_event(id, user, role, actor);
                self.members.remove(&(id, user));
                let mut events = vec![self.announce(ChatEvent::MemberRemoved(removed))];
                let remaining: Vec<Seniority> = self
                    .members
                    .range((id, UserId(i64::MIN))..=(id, UserId(i64::MAX)))
                    .map(|((_, user), m)| Seniority {
                        user: *user,
                        role: m.role,
                        joined_at: m.joined_at,
                    })
                    .collect();
                if role == Role::Owner
                    && let Some(heir) = successor(&remaining)
                    && let Some(member) = self.members.get_mut(&(id, heir))
                {
                    member.role = Role::Owner;
                    let promoted = self.member_event(id, heir, Role::Owner, actor);
                    events.push(self.announce(ChatEvent::MemberRoleChanged(promoted)));
                }
                events
            }
            GroupChange::SetRole(user, role) => {
                let Some(old) = target_role else {
                    return Err(ChatError::not_found(Entity::User));
                };
                if old == role {
                    Vec::new()
                } else {
                    if old == Role::Owner {
                        let owners = self
                            .members
                            .range((id, UserId(i64::MIN))..=(id, UserId(i64::MAX)))
                            .filter(|(_, m)| m.role == Role::Owner)
                            .count();
                        keeps_an_owner(owners - 1)?;
                    }
                    if let Some(member) = self.members.get_mut(&(id, user)) {
                        member.role = role;
                    }
                    let changed = self.member_event(id, user, role, actor);
                    vec![self.announce(ChatEvent::MemberRoleChanged(changed))]
                }
            }
        };
        Ok(Some(GroupWrite {
            conversation: self.detail(id),
            events,
        }))
    }
}
