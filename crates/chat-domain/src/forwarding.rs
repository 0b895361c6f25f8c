//! Forwarding: a copy of a message the caller can see, sent into conversations the caller
//! belongs to. Each copy is a normal send (its own `seq`, `new_message`, notifications) that
//! says where it came from, `forwarded_from { messageId, conversationId, senderId }`, and
//! nothing else of the source's conversation (not its replies, reactions or members).

use std::collections::HashSet;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::{
    AttachmentUrl, ChatError, ChatService, ConversationId, Entity, EventSink, MessageBody,
    MessageId, Recipient, SentMessage, Store, UserId, fields, ports::NewMessage,
};

/// Where a forwarded message came from: the original message, its conversation and sender
/// (a forward of a forward names the original).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForwardedFrom {
    /// The original message.
    pub message_id: MessageId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Who sent it.
    pub sender_id: UserId,
}

/// The conversations a forward goes to, as a client's `conversationIds` names them: 1 to
/// `CHAT_MAX_FORWARD_TARGETS` ids, each a positive integer (or a string of digits), repeats
/// counted once, in the order first named.
pub fn forward_targets(
    raw: Option<&serde_json::Value>,
    max: usize,
) -> Result<Vec<ConversationId>, ChatError> {
    // Repeats are read too (up to a bound on the work), then counted once.
    let ids = fields::positive_integers("conversationIds", raw, max.saturating_mul(4))?;
    let mut seen = HashSet::new();
    let targets: Vec<ConversationId> = ids
        .into_iter()
        .filter(|id| seen.insert(*id))
        .map(ConversationId)
        .collect();
    if targets.is_empty() {
        return Err(ChatError::invalid(
            "conversationIds",
            "must name at least one conversation",
        ));
    }
    if targets.len() > max {
        return Err(ChatError::invalid(
            "conversationIds",
            format!("must name at most {max} conversations"),
        ));
    }
    Ok(targets)
}

impl<S: Store, E: EventSink> ChatService<S, E> {
    /// Copies a message the caller can see into each of `targets`, in order, and announces
    /// each copy as a send. Everything is checked before the first copy is written: the
    /// source (`NotFound` message outside the caller's conversations, or deleted), every
    /// target (`NotFound` conversation for one the caller does not belong to), the text and
    /// link against today's limits, and one allowance of the send rate per copy
    /// (`RateLimited`, nothing written). Each copy is then its own send.
    pub async fn forward(
        &self,
        caller: UserId,
        source: MessageId,
        targets: &[ConversationId],
    ) -> Result<Vec<SentMessage>, ChatError> {
        let original = self
            .store()
            .visible_message(caller, source)
            .await?
            .ok_or(ChatError::not_found(Entity::Message))?;
        let mut destinations = Vec::with_capacity(targets.len());
        for target in targets {
            destinations.push(
                self.destination(caller, Recipient::Conversation(*target))
                    .await?,
            );
        }
        let content = MessageBody::parse(original.content.clone(), self.limits())?;
        let attachment_url = original
            .attachment_url
            .clone()
            .map(|url| AttachmentUrl::parse(url, self.limits()))
            .transpose()?;
        let from = original.forwarded_from.unwrap_or(ForwardedFrom {
            message_id: original.id,
            conversation_id: original.conversation_id,
            sender_id: original.sender_id,
        });
        let copies = NonZeroU32::new(u32::try_from(targets.len()).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        match self.send_rate.check_n(&caller, copies) {
            Some(Ok(())) => {}
            Some(Err(retry_after)) => return Err(ChatError::RateLimited { retry_after }),
            None => {
                return Err(ChatError::invalid(
                    "conversationIds",
                    "names more conversations than the send rate's burst allows at once",
                ));
            }
        }
        let mut sent = Vec::with_capacity(destinations.len());
        for destination in destinations {
            let id = destination.conversation.id;
            let message = NewMessage {
                conversation_id: id,
                sender_id: caller,
                content: content.clone(),
                attachment_url: attachment_url.clone(),
                client_message_id: None,
                reply_to: None,
                forwarded_from: Some(from),
                // The forwarder did not write the text: it mentions nobody.
                mentions: Vec::new(),
            };
            let copy = self.append(&destination, message, None).await?;
            sent.push(copy.ok_or_else(|| {
                self.forget(caller, Recipient::Conversation(id), id);
                ChatError::not_found(Entity::Conversation)
            })?);
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn targets_are_one_to_max_ids_each_counted_once() {
        let targets = forward_targets(Some(&json!([3, "7", 3])), 10).unwrap();
        assert_eq!(targets, [ConversationId(3), ConversationId(7)]);
        let repeated = forward_targets(Some(&json!(vec![5; 11])), 10).unwrap();
        assert_eq!(repeated, [ConversationId(5)]);
        for (bad, max) in [
            (json!([]), 10),
            (json!([1, 2, 3]), 2),
            (json!("3"), 10),
            (json!([0]), 10),
            (json!(null), 10),
        ] {
            assert!(
                matches!(
                    forward_targets(Some(&bad), max),
                    Err(ChatError::Invalid {
                        field: "conversationIds",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
