//! The host's own operation on top of the chat rules: signing a user up with a welcome
//! message from the host's bot.

use chat_domain::{
    ChatError, ChatService, EventSink, Policy, SendMessage, SentMessage, Store, UpsertUser, User,
    UserId,
};

/// The chat as this host runs it: the service, and the bot that greets new users.
pub struct Host<S, E> {
    chat: ChatService<S, E>,
    bot: UserId,
}

impl<S: Store, E: EventSink> Host<S, E> {
    /// Wires the rules to `store` and `events` and makes sure the bot's user exists.
    pub async fn new(
        store: S,
        events: E,
        policy: Policy,
        bot: UpsertUser,
    ) -> Result<Self, ChatError> {
        let chat = ChatService::new(store, events, policy);
        let bot = chat.upsert_user(bot).await?.id;
        Ok(Host { chat, bot })
    }

    /// The service, for everything the host does not wrap (sending, reading, groups, ...).
    pub fn chat(&self) -> &ChatService<S, E> {
        &self.chat
    }

    /// Creates or refreshes a user of the host application and has the bot welcome them in
    /// their direct conversation. The welcome's client message id is the user's, so signing
    /// the same user up again (a retried request, a refreshed profile) answers with the first
    /// welcome and announces nothing (`replayed`).
    pub async fn sign_up(&self, user: UpsertUser) -> Result<(User, SentMessage), ChatError> {
        let user = self.chat.upsert_user(user).await?;
        let welcome = SendMessage::parse(
            self.bot,
            user.id,
            format!("Welcome, {}!", user.username),
            None,
            Some(format!("welcome-{}", user.id)),
            self.chat.limits(),
        )?;
        let sent = self.chat.send_message(welcome).await?;
        Ok((user, sent))
    }
}
