//! Replies and threads: a send may name a message of the same conversation it answers
//! (`replyToId`); the reply shows that parent as `reply_to { id, sender, excerpt }`, a parent
//! shows how many visible replies it has (`reply_count`), and a thread is paged like history
//! (`GET /api/chat/messages/{id}/replies`).
//!
//! A parent's excerpt is read when the reply is read, never stored with it, so a parent
//! deleted later shows as deleted in every reply (its text gone with it), and an edited
//! parent shows its text of now.

use std::collections::HashMap;

use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use crate::{
    ChatError, ChatService, ConversationDetail, ConversationId, Entity, EventSink, Message,
    MessageId, MessageWindow, Store, UserId, UserRef, service::ConversationMessages,
};

/// How many user-perceived characters (extended grapheme clusters, UAX #29) of a parent's
/// text its replies show; a longer text is cut there and ends with `…`.
pub const EXCERPT_GRAPHEMES: usize = 100;

/// The message a reply answers, as the reply shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    /// The parent's id.
    pub id: MessageId,
    /// Who sent the parent.
    pub sender: UserRef,
    /// The start of the parent's text ([`excerpt`]); `None` once the parent is deleted.
    pub excerpt: Option<String>,
}

/// The start of `text` as a reply shows its parent: at most [`EXCERPT_GRAPHEMES`] grapheme
/// clusters, so that an emoji sequence or a combining mark is never cut in two, followed by
/// `…` when something was left out.
pub fn excerpt(text: &str) -> String {
    match text.grapheme_indices(true).nth(EXCERPT_GRAPHEMES) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// One page of a thread: the replies of a parent, with the parent's conversation (whose
/// members the caller is one of) and how many visible replies the thread holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// The conversation of the parent and its replies.
    pub conversation: ConversationId,
    /// The replies of the window, in the window's order.
    pub replies: Vec<Message>,
    /// How many visible replies the parent has.
    pub total: i64,
}

/// The refusal of a `replyToId` that is not a message of the send's conversation.
pub(crate) fn not_a_parent() -> ChatError {
    ChatError::invalid("replyToId", "must be a message of this conversation")
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// The parent a send into `conversation` replies to, as its reply shows it. `Invalid`
    /// (`replyToId`) for a message of another conversation or an unknown one. A deleted parent
    /// is a parent still: its reply shows it as deleted (as one deleted after the reply does),
    /// and a retried reply is answered with the stored message whatever became of its parent.
    pub(crate) async fn reply_parent(
        &self,
        conversation: ConversationId,
        parent: MessageId,
    ) -> Result<ReplyTo, ChatError> {
        let mut found = self.store().reply_parents(conversation, &[parent]).await?;
        found.remove(&parent).ok_or_else(not_a_parent)
    }

    /// A window of the replies to a message the caller can see (deleted or not), newest
    /// first as history is; `NotFound` (message) outside the caller's conversations.
    pub async fn replies(
        &self,
        caller: UserId,
        parent: MessageId,
        window: MessageWindow,
    ) -> Result<ConversationMessages, ChatError> {
        let thread = self
            .store()
            .replies(caller, parent, window)
            .await?
            .ok_or(ChatError::not_found(Entity::Message))?;
        let conversation = self.member_view(caller, thread.conversation).await?;
        let mut messages = thread.replies;
        self.decorate(caller, &mut messages).await?;
        Ok(ConversationMessages {
            conversation,
            messages,
            total: thread.total,
        })
    }

    /// Fills in what history shows of messages beyond their rows: their reactions as the
    /// caller sees them, the parents they reply to and their reply counts, read at the same
    /// time (each read is independent of the others; the parents one read per conversation,
    /// since a reply's parent is always in its conversation).
    pub(crate) async fn decorate(
        &self,
        caller: UserId,
        messages: &mut [Message],
    ) -> Result<(), ChatError> {
        if messages.is_empty() {
            return Ok(());
        }
        let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        let mut wanted: Vec<(ConversationId, Vec<MessageId>)> = Vec::new();
        for message in messages.iter() {
            let Some(parent) = message.reply_to_id else {
                continue;
            };
            match wanted
                .iter_mut()
                .find(|(c, _)| *c == message.conversation_id)
            {
                Some((_, parents)) => parents.push(parent),
                None => wanted.push((message.conversation_id, vec![parent])),
            }
        }
        let store = self.store();
        let (mut reactions, counts, parents) = futures_util::try_join!(
            store.reactions_for(caller, &ids),
            store.reply_counts(&ids),
            async {
                let found =
                    futures_util::future::try_join_all(wanted.iter().map(
                        |(conversation, parents)| store.reply_parents(*conversation, parents),
                    ))
                    .await?;
                Ok(found.into_iter().flatten().collect::<HashMap<_, _>>())
            },
        )?;
        for message in messages.iter_mut() {
            message.reply_count = counts.get(&message.id).copied().unwrap_or(0);
            if let Some(found) = reactions.remove(&message.id) {
                message.reactions = found;
            }
        }
        attach_parents(messages, &parents);
        Ok(())
    }

    /// Decorates messages of several conversations as history shows them, each with its
    /// conversation as `caller` sees it, in the order given; messages of a conversation the
    /// caller has left since they were read are left out. The conversations are read a few at
    /// a time and the messages decorated together, so that a page costs a handful of round
    /// trips however many conversations it spans.
    pub(crate) async fn decorate_across(
        &self,
        caller: UserId,
        messages: Vec<Message>,
    ) -> Result<Vec<(ConversationDetail, Message)>, ChatError> {
        /// Conversations read at once (each on a connection of its own).
        const AT_ONCE: usize = 8;
        let mut conversations: Vec<ConversationId> = Vec::new();
        for message in &messages {
            if !conversations.contains(&message.conversation_id) {
                conversations.push(message.conversation_id);
            }
        }
        let details: Vec<Option<ConversationDetail>> = futures_util::stream::iter(&conversations)
            .map(|id| self.store().conversation_for(caller, *id))
            .buffered(AT_ONCE)
            .try_collect()
            .await?;
        let details: HashMap<ConversationId, ConversationDetail> = conversations
            .into_iter()
            .zip(details)
            .filter_map(|(id, detail)| Some((id, detail?)))
            .collect();
        let mut messages: Vec<Message> = messages
            .into_iter()
            .filter(|m| details.contains_key(&m.conversation_id))
            .collect();
        self.decorate(caller, &mut messages).await?;
        Ok(messages
            .into_iter()
            .filter_map(|m| Some((details.get(&m.conversation_id)?.clone(), m)))
            .collect())
    }

    /// Fills in the parents that messages of one conversation reply to.
    pub(crate) async fn with_parents(
        &self,
        conversation: ConversationId,
        messages: &mut [Message],
    ) -> Result<(), ChatError> {
        let parents: Vec<MessageId> = messages.iter().filter_map(|m| m.reply_to_id).collect();
        if parents.is_empty() {
            return Ok(());
        }
        let found = self.store().reply_parents(conversation, &parents).await?;
        attach_parents(messages, &found);
        Ok(())
    }
}

/// Sets each message's `reply_to` from the parents found (a parent not found leaves it unset).
pub fn attach_parents(messages: &mut [Message], parents: &HashMap<MessageId, ReplyTo>) {
    for message in messages {
        message.reply_to = message.reply_to_id.and_then(|id| parents.get(&id)).cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_keeps_whole_graphemes_and_marks_a_cut() {
        assert_eq!(excerpt("short"), "short");
        let exact = "a".repeat(EXCERPT_GRAPHEMES);
        assert_eq!(excerpt(&exact), exact);
        let long = format!("{exact}b");
        assert_eq!(excerpt(&long), format!("{exact}…"));
        // A family emoji is one grapheme of seven code points; a cut never splits it.
        let family = "👨‍👩‍👧‍👦";
        let emoji = family.repeat(EXCERPT_GRAPHEMES + 1);
        assert_eq!(
            excerpt(&emoji),
            format!("{}…", family.repeat(EXCERPT_GRAPHEMES))
        );
        // A letter with a combining accent counts once.
        let accented = "e\u{301}".repeat(EXCERPT_GRAPHEMES + 3);
        let cut = excerpt(&accented);
        assert_eq!(cut, format!("{}…", "e\u{301}".repeat(EXCERPT_GRAPHEMES)));
    }
}
