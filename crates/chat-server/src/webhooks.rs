//! Webhooks in the composition root: who counts as connected (this node's sockets, or every
//! node's through Redis in a cluster) and the dispatcher's start.

use std::collections::HashSet;
use std::sync::Arc;

use chat_api::{DeadLetter, DeadLetters};
use chat_bus_redis::RedisBus;
use chat_domain::{ChatError, UserId};
use chat_realtime::chat::Hub;
use chat_store_pg::PgStore;
use chat_webhooks::{Connected, Dispatcher, WebhookConfig};
use futures_util::future::BoxFuture;

use crate::startup::StartupError;

/// A node alone: a user is connected while this node holds one of their sockets.
struct NodeSockets(Arc<Hub>);

impl Connected for NodeSockets {
    fn connected(&self, users: Vec<UserId>) -> BoxFuture<'_, Result<HashSet<UserId>, String>> {
        let held = users
            .into_iter()
            .filter(|user| self.0.holds(*user))
            .collect();
        Box::pin(async move { Ok(held) })
    }
}

/// A cluster: a user is connected while any node records one of their sockets in Redis.
struct ClusterSockets(Arc<RedisBus>);

impl Connected for ClusterSockets {
    fn connected(&self, users: Vec<UserId>) -> BoxFuture<'_, Result<HashSet<UserId>, String>> {
        Box::pin(async move {
            self.0
                .connected_users(&users)
                .await
                .map_err(|e| format!("presence unavailable: {e}"))
        })
    }
}

/// The dead letters of `store`'s outbox, for the admin API.
pub(crate) struct OutboxDeadLetters(pub(crate) PgStore);

impl DeadLetters for OutboxDeadLetters {
    fn list(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> BoxFuture<'_, Result<Vec<DeadLetter>, ChatError>> {
        Box::pin(async move {
            let dead = self.0.dead_webhooks(before, limit).await?;
            Ok(dead
                .into_iter()
                .map(|event| DeadLetter {
                    id: event.id,
                    message_id: event.message_id,
                    attempts: event.attempts,
                    last_error: event.last_error,
                    created_at: event.created_at,
                    dead_at: event.finished_at,
                    payload: event
                        .payload
                        .and_then(|body| serde_json::from_str(&body).ok()),
                })
                .collect())
        })
    }

    fn requeue(&self, id: i64) -> BoxFuture<'_, Result<bool, ChatError>> {
        Box::pin(self.0.requeue_webhook(id))
    }
}

/// Starts the dispatcher of `store`'s outbox on the current runtime, with presence from the
/// cluster's Redis when there is one, else from `hub`.
pub(crate) fn start(
    store: &PgStore,
    config: &WebhookConfig,
    hub: &Arc<Hub>,
    cluster: Option<&Arc<RedisBus>>,
) -> Result<(), StartupError> {
    let connected: Arc<dyn Connected> = match cluster {
        Some(redis) => Arc::new(ClusterSockets(Arc::clone(redis))),
        None => Arc::new(NodeSockets(Arc::clone(hub))),
    };
    let dispatcher = Dispatcher::new(store.clone(), config.clone(), connected)
        .map_err(|e| StartupError::Config(format!("CHAT_WEBHOOK_URL: cannot post to it: {e}")))?;
    tracing::info!("webhooks for offline users are on");
    tokio::spawn(dispatcher.run());
    Ok(())
}
