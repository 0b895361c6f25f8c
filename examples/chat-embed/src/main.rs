//! A service that embeds the chat rules on PostgreSQL and forwards their events, as JSON
//! lines on standard output, to its own consumers. It signs up two users (each welcomed by
//! the bot), has one send the other a message and the other read it, then stops.
//!
//! ```sh
//! DATABASE_URL=postgres://chat:chat@localhost:5432/chat cargo run -p chat-embed-example
//! ```

use anyhow::{Context, Result};
use chat_domain::{Policy, SendMessage, UpsertUser, UserId, Username};
use chat_embed_example::{Forwarder, Host, QueueSink};
use chat_store_pg::{PgConfig, PgStore};

/// Events that may wait for the forwarder; past it the queue drops and the forwarder reads
/// them back from PostgreSQL.
const QUEUE: usize = 1024;

#[tokio::main]
async fn main() -> Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
    // Connects, applies the chat's migrations (in the `chat` schema) and starts the writers.
    let store = PgStore::connect(&PgConfig::new(url)).await?;

    let (sink, queue) = QueueSink::channel(QUEUE);
    let forwarder = Forwarder::new(store.clone(), queue).await?;
    let lines = tokio::spawn(forwarder.run(std::io::stdout()));

    let host = Host::new(store, sink.clone(), Policy::default(), user(1, "bot")?).await?;
    let (alice, _) = host.sign_up(user(2, "alice")?).await?;
    let (bob, _) = host.sign_up(user(3, "bob")?).await?;
    let hello = SendMessage::parse(
        alice.id,
        bob.id,
        "Hello Bob".to_owned(),
        None,
        None,
        host.chat().limits(),
    )?;
    let sent = host.chat().send_message(hello).await?;
    host.chat()
        .mark_read(bob.id, sent.conversation.conversation.id)
        .await?;

    // The last sinks go with the service: the queue closes, the forwarder ends.
    drop((host, sink));
    let lines = lines.await.context("the forwarder panicked")??;
    eprintln!("forwarded {lines} events");
    Ok(())
}

/// A user of the host application.
fn user(id: i64, name: &str) -> Result<UpsertUser> {
    Ok(UpsertUser {
        id: UserId(id),
        username: Username::parse(name)?,
        display_name: None,
        avatar_url: None,
    })
}
