//! The chat domain: ids, entities, validated input, the rules of the [`ChatService`] and the
//! ports (repository traits and the event sink) that stores and transports implement.
//!
//! Nothing here knows about HTTP, SQL or sockets, so a Rust service can embed the rules with
//! any store and any transport: a [`ChatService`] takes a [`Store`] (every repository port),
//! an [`EventSink`] (where committed events go) and a [`Policy`] (limits and rates). Its
//! methods take the caller's [`UserId`] and input parsed into the domain's types, and fail
//! with a [`ChatError`].
//!
//! In tests, the in-memory store (feature `memory`) and a sink that records what it is told:
//!
//! ```
//! use chat_domain::memory::{MemoryStore, RecordedEvents};
//! use chat_domain::{ChatEvent, ChatService, Policy, SendMessage, UpsertUser, UserId, Username};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), chat_domain::ChatError> {
//! let events = RecordedEvents::default();
//! let chat = ChatService::new(MemoryStore::new(), events.clone(), Policy::default());
//! for (id, name) in [(1, "alice"), (2, "bob")] {
//!     let username = Username::parse(name)?;
//!     chat.upsert_user(UpsertUser { id: UserId(id), username, display_name: None, avatar_url: None })
//!         .await?;
//! }
//! let hello = SendMessage::parse(UserId(1), UserId(2), "Hi Bob".into(), None, None, chat.limits())?;
//! let sent = chat.send_message(hello).await?;
//! assert_eq!(sent.message.seq.get(), 1);
//! assert!(matches!(&events.take()[..], [ChatEvent::MessageSent(_)]));
//! # Ok(())
//! # }
//! ```
//!
//! In production, the PostgreSQL store (`chat-store-pg`) and a sink of the host's own, which
//! must not block: it queues and returns (`docs/embedding.md`, and the `chat-embed-example`
//! crate, which forwards the events to a queue in order and without loss):
//!
//! ```no_run
//! use chat_domain::{ChatService, EventSink, Policy, StreamEvent};
//! use chat_store_pg::{PgConfig, PgStore};
//!
//! struct Forward(tokio::sync::mpsc::Sender<StreamEvent>);
//!
//! impl EventSink for Forward {
//!     fn publish(&self, event: StreamEvent) {
//!         // Full: dropped. A consumer reads it back by position (`StreamRepo::stream_range`).
//!         let _ = self.0.try_send(event);
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (sink, mut events) = tokio::sync::mpsc::channel(1024);
//! // Connects and applies the migrations (schema `chat`); the store's writers run on this runtime.
//! let store = PgStore::connect(&PgConfig::new("postgres://chat@localhost/app")).await?;
//! let chat = ChatService::new(store, Forward(sink), Policy::default());
//! chat.ready().await?;
//! tokio::spawn(async move {
//!     while let Some(_event) = events.recv().await { /* to the host's queue */ }
//! });
//! # Ok(())
//! # }
//! ```

mod accounts;
mod case;
mod detail_cache;
mod edits;
mod entities;
mod error;
mod events;
pub mod fields;
mod forwarding;
mod group_service;
mod groups;
mod ids;
mod input;
mod limits;
mod mentions;
mod notice;
mod paging;
mod pins;
mod policy;
mod ports;
mod rate_limit;
mod reactions;
mod recovery;
mod scheduled;
mod search;
mod send;
mod service;
mod stream;
mod sync;
mod threads;
pub mod wire;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "memory")]
pub mod memory;

pub use accounts::{AccountRates, Accounts, Password, PasswordHasher};
pub use case::{case_key, nfc};
pub use edits::{Edited, edit_window_passed};
pub use entities::{
    Conversation, ConversationDetail, ConversationKind, Member, Message, MessageVersion,
    ReadReceipt, Role, UnreadCount, User, UserRef,
};
pub use error::{BoxError, ChatError, Entity};
pub use events::{
    ChatEvent, ConversationChanged, DiscardEvents, EventSink, MemberChanged, MessageDeleted,
    MessageEdited, MessageSent, MessagesRead,
};
pub use forwarding::{ForwardedFrom, forward_targets};
pub use group_service::CreatedGroup;
pub use groups::{
    GroupChange, GroupPatch, GroupTitle, GroupWrite, NewGroup, Seniority, authorize,
    keeps_an_owner, successor,
};
pub use ids::{ConversationId, MessageId, ScheduledId, Seq, UserId};
pub use input::{AttachmentUrl, ClientMessageId, MessageBody, SearchQuery, Username};
pub use limits::Limits;
pub use mentions::{MAX_MENTIONS, UsernameKeys, mentioned};
pub use notice::NoticeBudget;
pub use paging::{MessageWindow, PageRequest, Paged};
pub use pins::{Pin, PinChanged, PinWrite, may_pin, too_many_pins};
pub use policy::Policy;
pub use ports::{
    AccountRepo, Appended, ConversationRepo, DirectPair, Directory, GroupRepo, Health, MessageRepo,
    NewMessage, ScheduleRepo, Store, StreamRepo, StreamScope, UpsertUser, UserRepo,
};
pub use rate_limit::{KeyedLimiter, REFUSALS_METRIC, Rate, SendRate};
pub use reactions::{
    Reaction, ReactionChanged, ReactionKey, ReactionWrite, too_many_reaction_kinds,
};
pub use recovery::{RecoveryRepo, RecoverySession};
pub use scheduled::{
    DueRound, MAX_SCHEDULE_AHEAD, NewScheduled, SCHEDULE_LEASE, SCHEDULED_CLIENT_ID_PREFIX,
    SCHEDULED_METRIC, ScheduledEdit, ScheduledMessage, check_send_at,
};
pub use search::{
    ExcerptPart, MATCH_END, MATCH_START, SearchCursor, SearchHit, SearchResults, TextSearch,
    excerpt_parts,
};
pub use send::{Recipient, SEND_DURATION_METRIC, SendMessage, SentMessage};
pub use service::{ChatService, ConversationMessages};
pub use stream::{STREAM_WRITERS, StreamEvent, StreamPosition, StreamToken, writer_of};
pub use sync::SyncPage;
pub use threads::{EXCERPT_GRAPHEMES, ReplyTo, Thread, attach_parents, excerpt};
