//! The group side of the [`ChatService`]: creating groups, changing their members and
//! settings, and who has read a message. The role rules are [`crate::authorize`], applied by
//! the store inside each write.

use crate::{
    ChatError, ChatService, ConversationDetail, ConversationId, Entity, EventSink, GroupChange,
    GroupWrite, Member, MessageId, NewGroup, Store, UserId,
};

/// A group as its creation left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedGroup {
    /// The group, with its members.
    pub conversation: ConversationDetail,
    /// Whether this answered a retry (the same `clientRequestId`): nothing was written or
    /// announced again.
    pub replayed: bool,
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Creates a group owned by the caller and announces it to every member.
    pub async fn create_group(&self, group: NewGroup) -> Result<CreatedGroup, ChatError> {
        self.rate_limit(group.creator)?;
        let GroupWrite {
            conversation,
            events,
        } = self.store().create_group(group).await?;
        let replayed = events.is_empty();
        for event in events {
            self.announce(event.position, event.event);
        }
        Ok(CreatedGroup {
            conversation,
            replayed,
        })
    }

    /// Applies a change to a group the caller belongs to (see [`GroupChange`] for who may do
    /// what) and announces what it did; a conversation the caller is not a member of is not
    /// found. Returns the group as it is now: after leaving, without the caller.
    pub async fn change_group(
        &self,
        caller: UserId,
        conversation: ConversationId,
        change: GroupChange,
    ) -> Result<ConversationDetail, ChatError> {
        let change = match change {
            GroupChange::AddMembers(mut users) => {
                self.rate_limit(caller)?;
                users.sort_unstable();
                users.dedup();
                let detail = self.member_view(caller, conversation).await?;
                let new = users
                    .iter()
                    .filter(|u| detail.member(**u).is_none())
                    .count();
                let max = self.limits().max_group_members;
                if detail.members.len() + new > max {
                    return Err(ChatError::invalid(
                        "userIds",
                        format!("would make the group larger than {max} members"),
                    ));
                }
                GroupChange::AddMembers(users)
            }
            other => other,
        };
        let written = self
            .store()
            .change_group(caller, conversation, change)
            .await?
            .ok_or(ChatError::not_found(Entity::Conversation));
        // Whatever happened, the members this process knows may be stale now.
        self.groups.forget(&conversation);
        let GroupWrite {
            conversation,
            events,
        } = written?;
        for event in events {
            self.announce(event.position, event.event);
        }
        Ok(conversation)
    }

    /// Group creations and member additions announce something to other users, like a
    /// send: they take from the same per-user budget (`CHAT_SEND_RATE_PER_SEC`,
    /// `CHAT_SEND_BURST`).
    pub(crate) fn rate_limit(&self, caller: UserId) -> Result<(), ChatError> {
        self.send_rate
            .check(&caller)
            .map_err(|retry_after| ChatError::RateLimited { retry_after })
    }

    /// The members other than its sender who have read a message ("seen by"), from their
    /// read watermarks, in member order.
    pub async fn message_reads(
        &self,
        caller: UserId,
        conversation: ConversationId,
        message: MessageId,
    ) -> Result<Vec<Member>, ChatError> {
        let detail = self.member_view(caller, conversation).await?;
        let message = self
            .store()
            .message(caller, conversation, message)
            .await?
            .ok_or(ChatError::not_found(Entity::Message))?;
        Ok(detail
            .members
            .into_iter()
            .filter(|m| m.user.id != message.sender_id && m.last_read_seq >= message.seq)
            .collect())
    }
}
