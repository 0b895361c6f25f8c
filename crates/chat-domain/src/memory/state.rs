//! The plain data behind [`super::MemoryStore`] and the operations on it; no locking here.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::{
    ChatError, ChatEvent, Conversation, ConversationDetail, ConversationId, ConversationKind,
    Member, Message, MessageId, MessageSent, MessageVersion, MessageWindow, MessagesRead,
    PageRequest, Paged, ReadReceipt, Role, STREAM_WRITERS, SearchQuery, Seq, StreamEvent,
    StreamPosition, UnreadCount, User, UserId, UserRef,
    ports::{Appended, DirectPair, NewMessage},
    writer_of,
};

#[derive(Debug)]
pub(super) struct StoredConversation {
    pub(super) conversation: Conversation,
    pub(super) last_message_seq: Option<Seq>,
}

#[derive(Debug)]
pub(super) struct StoredMember {
    pub(super) role: Role,
    pub(super) last_read_seq: Seq,
    pub(super) last_read_at: Option<DateTime<Utc>>,
    pub(super) joined_at: DateTime<Utc>,
}

impl StoredMember {
    /// A member who has read nothing yet.
    pub(super) fn new(role: Role, now: DateTime<Utc>) -> Self {
        StoredMember {
            role,
            last_read_seq: Seq::ZERO,
            last_read_at: None,
            joined_at: now,
        }
    }
}

#[derive(Debug)]
pub(super) struct StoredMessage {
    pub(super) message: Message,
    pub(super) deleted: bool,
    /// The versions its edits replaced, oldest first.
    pub(super) versions: Vec<MessageVersion>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) users: BTreeMap<UserId, User>,
    pub(super) direct: HashMap<DirectPair, ConversationId>,
    /// Built-in accounts by lowercased username: the user and the password hash.
    pub(super) accounts: HashMap<String, (UserId, String)>,
    pub(super) conversations: BTreeMap<ConversationId, StoredConversation>,
    pub(super) members: BTreeMap<(ConversationId, UserId), StoredMember>,
    /// Groups by their creator's `clientRequestId`.
    pub(super) group_requests: HashMap<(UserId, String), ConversationId>,
    pub(super) messages: BTreeMap<MessageId, StoredMessage>,
    /// Messages scheduled for later.
    pub(super) schedules: super::scheduled::Schedules,
    by_seq: BTreeMap<(ConversationId, Seq), MessageId>,
    client_ids: HashMap<(UserId, String), MessageId>,
    pub(super) last_conversation_id: i64,
    last_message_id: i64,
    /// Each writer's events; an event's position is its index plus one.
    pub(super) stream: [Vec<StreamEvent>; STREAM_WRITERS],
    pub(super) sessions: HashMap<String, super::stream::StoredSession>,
    /// Pinned messages: their conversation, who pinned them and when.
    pub(super) pins: BTreeMap<MessageId, (ConversationId, UserId, DateTime<Utc>)>,
    /// Reactions by message: each key (in the order first used) with who reacted.
    pub(super) reactions: HashMap<MessageId, Vec<(crate::ReactionKey, Vec<UserId>)>>,
}

impl State {
    pub(super) fn is_member(&self, conversation: ConversationId, user: UserId) -> bool {
        self.members.contains_key(&(conversation, user))
    }

    /// The members of a conversation.
    pub(super) fn members_of(&self, conversation: ConversationId) -> impl Iterator<Item = UserId> {
        self.members
            .range((conversation, UserId(i64::MIN))..=(conversation, UserId(i64::MAX)))
            .map(|((_, user), _)| *user)
    }

    /// The conversations `user` belongs to.
    pub(super) fn conversations_with(&self, user: UserId) -> impl Iterator<Item = ConversationId> {
        self.members
            .keys()
            .filter(move |(_, member)| *member == user)
            .map(|(id, _)| *id)
    }

    pub(super) fn detail(&self, id: ConversationId) -> ConversationDetail {
        let members = self
            .members
            .range((id, UserId(i64::MIN))..=(id, UserId(i64::MAX)))
            .map(|((_, user), m)| Member {
                user: UserRef {
                    id: *user,
                    username: self
                        .users
                        .get(user)
                        .map(|u| u.username.clone())
                        .unwrap_or_default(),
                },
                role: m.role,
                last_read_seq: m.last_read_seq,
                last_read_at: m.last_read_at,
                joined_at: m.joined_at,
            })
            .collect();
        let conversation = self
            .conversations
            .get(&id)
            .map(|c| c.conversation.clone())
            .unwrap_or_else(|| empty_conversation(id, Utc::now()));
        ConversationDetail {
            conversation,
            members,
        }
    }

    pub(super) fn direct_conversation(
        &mut self,
        pair: DirectPair,
        now: DateTime<Utc>,
    ) -> Result<ConversationDetail, ChatError> {
        if let Some(id) = self.direct.get(&pair) {
            return Ok(self.detail(*id));
        }
        if !self.users.contains_key(&pair.low()) || !self.users.contains_key(&pair.high()) {
            return Err(ChatError::not_found(crate::Entity::User));
        }
        self.last_conversation_id += 1;
        let id = ConversationId(self.last_conversation_id);
        let stored = StoredConversation {
            conversation: empty_conversation(id, now),
            last_message_seq: None,
        };
        self.conversations.insert(id, stored);
        for user in [pair.low(), pair.high()] {
            self.members
                .insert((id, user), StoredMember::new(Role::Member, now));
        }
        self.direct.insert(pair, id);
        Ok(self.detail(id))
    }

    pub(super) fn conversations_of(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> Paged<ConversationDetail> {
        let mut mine: Vec<&Conversation> = self
            .conversations_with(user)
            .filter_map(|id| self.conversations.get(&id).map(|c| &c.conversation))
            .collect();
        mine.sort_by_key(|c| std::cmp::Reverse((c.last_message_at.unwrap_or(c.created_at), c.id)));
        let total = i64::try_from(mine.len()).unwrap_or(i64::MAX);
        let items = mine
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(page.limit as usize)
            .map(|c| self.detail(c.id))
            .collect();
        Paged { items, total }
    }

    /// One visible message of a conversation.
    pub(super) fn message(&self, conversation: ConversationId, id: MessageId) -> Option<Message> {
        self.messages
            .get(&id)
            .filter(|m| !m.deleted && m.message.conversation_id == conversation)
            .map(|m| m.message.clone())
    }

    pub(super) fn visible(
        &self,
        conversation: ConversationId,
    ) -> impl DoubleEndedIterator<Item = &Message> {
        self.by_seq
            .range((conversation, Seq(i64::MIN))..=(conversation, Seq(i64::MAX)))
            .filter_map(|(_, id)| self.messages.get(id))
            .filter(|m| !m.deleted)
            .map(|m| &m.message)
    }

    fn unread_in(&self, conversation: ConversationId, user: UserId, above: Seq) -> i64 {
        let count = self
            .visible(conversation)
            .filter(|m| m.seq > above && m.sender_id != user)
            .count();
        i64::try_from(count).unwrap_or(i64::MAX)
    }

    /// Records an event in its conversation's writer; returns its position.
    pub(super) fn record(&mut self, event: ChatEvent) -> StreamPosition {
        let writer = writer_of(event.conversation_id());
        let log = &mut self.stream[writer];
        let position = StreamPosition {
            writer,
            position: i64::try_from(log.len()).unwrap_or(i64::MAX) + 1,
        };
        log.push(StreamEvent { position, event });
        position
    }

    pub(super) fn append(
        &mut self,
        new: NewMessage,
        now: DateTime<Utc>,
    ) -> Result<Option<Appended>, ChatError> {
        let (conversation_id, sender) = (new.conversation_id, new.sender_id);
        if !self.is_member(conversation_id, sender) {
            return Ok(None);
        }
        let client_key = new
            .client_message_id
            .as_ref()
            .map(|c| (sender, c.as_str().to_owned()));
        if let Some(earlier) = client_key
            .as_ref()
            .and_then(|k| self.client_ids.get(k))
            .and_then(|id| self.messages.get(id))
        {
            let earlier = &earlier.message;
            let same = earlier.conversation_id == conversation_id
                && earlier.reply_to_id == new.reply_to
                && earlier.content == new.content.as_str()
                && earlier.attachment_url.as_deref()
                    == new.attachment_url.as_ref().map(|u| u.as_str());
            return if same {
                Ok(Some(Appended::Retried(earlier.clone())))
            } else {
                Err(ChatError::Conflict(
                    "clientMessageId was already used for another message".into(),
                ))
            };
        }
        let Some(stored) = self.conversations.get_mut(&conversation_id) else {
            return Ok(None);
        };
        let seq = Seq(stored.conversation.last_seq.0 + 1);
        self.last_message_id += 1;
        let message = Message {
            id: MessageId(self.last_message_id),
            conversation_id,
            seq,
            sender_id: sender,
            content: new.content.as_str().to_owned(),
            attachment_url: new.attachment_url.map(|u| u.as_str().to_owned()),
            client_message_id: new.client_message_id.map(|c| c.as_str().to_owned()),
            created_at: now,
            updated_at: now,
            edited_at: None,
            reactions: Vec::new(),
            reply_to_id: new.reply_to,
            reply_to: None,
            reply_count: 0,
            forwarded_from: new.forwarded_from,
            mentions: new.mentions,
        };
        let c = &mut stored.conversation;
        c.last_seq = seq;
        c.message_count += 1;
        c.last_message = Some(message.content.clone());
        c.last_message_at = Some(now);
        c.updated_at = now;
        stored.last_message_seq = Some(seq);
        // A scheduled message goes out while its sender may be away: it reads nothing.
        let scheduled = message
            .client_message_id
            .as_deref()
            .is_some_and(|id| id.starts_with(crate::SCHEDULED_CLIENT_ID_PREFIX));
        if let Some(member) = self
            .members
            .get_mut(&(conversation_id, sender))
            .filter(|_| !scheduled)
        {
            member.last_read_seq = seq;
            member.last_read_at = Some(now);
        }
        if let Some(key) = client_key {
            self.client_ids.insert(key, message.id);
        }
        self.by_seq.insert((conversation_id, seq), message.id);
        let stored = StoredMessage {
            message: message.clone(),
            deleted: false,
            versions: Vec::new(),
        };
        self.messages.insert(message.id, stored);
        let detail = self.detail(conversation_id);
        let position = self.record(ChatEvent::MessageSent(MessageSent {
            message: message.clone(),
            members: detail.members.into_iter().map(|m| m.user).collect(),
            kind: detail.conversation.kind,
        }));
        Ok(Some(Appended::New(message, position)))
    }

    pub(super) fn window(
        &self,
        conversation: ConversationId,
        window: MessageWindow,
    ) -> Vec<Message> {
        pick_window(self.visible(conversation).collect(), window)
    }

    pub(super) fn search(
        &self,
        conversation: ConversationId,
        query: &SearchQuery,
        page: PageRequest,
    ) -> Paged<Message> {
        let needle = query.as_str().to_lowercase();
        let matches: Vec<&Message> = self
            .visible(conversation)
            .rev()
            .filter(|m| m.content.to_lowercase().contains(&needle))
            .collect();
        Paged {
            total: i64::try_from(matches.len()).unwrap_or(i64::MAX),
            items: matches
                .into_iter()
                .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
                .take(page.limit as usize)
                .cloned()
                .collect(),
        }
    }

    pub(super) fn mark_read(
        &mut self,
        user: UserId,
        id: ConversationId,
        now: DateTime<Utc>,
    ) -> Option<(ReadReceipt, StreamPosition)> {
        let last_seq = self.conversations.get(&id)?.conversation.last_seq;
        let old = self.members.get(&(id, user))?.last_read_seq;
        let updated = self.unread_in(id, user, old);
        let member = self.members.get_mut(&(id, user))?;
        member.last_read_seq = old.max(last_seq);
        member.last_read_at = Some(now);
        let receipt = ReadReceipt {
            conversation_id: id,
            user_id: user,
            updated,
            last_read_seq: member.last_read_seq,
            read_at: now,
        };
        let position = self.record(ChatEvent::MessagesRead(MessagesRead {
            conversation_id: id,
            user_id: user,
            last_read_seq: receipt.last_read_seq,
            read_at: now,
        }));
        Some((receipt, position))
    }

    pub(super) fn unread(&self, user: UserId) -> Vec<UnreadCount> {
        self.members
            .iter()
            .filter(|((_, member), _)| *member == user)
            .map(|((id, _), m)| UnreadCount {
                conversation_id: *id,
                unread_count: self.unread_in(*id, user, m.last_read_seq),
            })
            .filter(|u| u.unread_count > 0)
            .collect()
    }
}

/// A new conversation without messages; a direct one unless changed.
/// The messages of a window out of `oldest_first` (visible messages in `seq` order), newest
/// first (`After` takes the oldest after its cursor).
pub(super) fn pick_window(oldest_first: Vec<&Message>, window: MessageWindow) -> Vec<Message> {
    let newest_first = oldest_first.iter().rev();
    let picked: Vec<&&Message> = match window {
        MessageWindow::Page(page) => newest_first
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(page.limit as usize)
            .collect(),
        MessageWindow::Before { seq, limit } => newest_first
            .filter(|m| m.seq < seq)
            .take(limit as usize)
            .collect(),
        MessageWindow::After { seq, limit } => {
            let mut oldest: Vec<&&Message> = oldest_first
                .iter()
                .filter(|m| m.seq > seq)
                .take(limit as usize)
                .collect();
            oldest.reverse();
            oldest
        }
    };
    picked.into_iter().map(|m| (*m).clone()).collect()
}

pub(super) fn empty_conversation(id: ConversationId, now: DateTime<Utc>) -> Conversation {
    Conversation {
        id,
        kind: ConversationKind::Direct,
        title: None,
        avatar_url: None,
        last_seq: Seq::ZERO,
        message_count: 0,
        last_message: None,
        last_message_at: None,
        created_at: now,
        updated_at: now,
    }
}
