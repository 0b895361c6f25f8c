//! The chat domain: ids, entities, validated input, the rules of the [`ChatService`] and the
//! ports (repository traits and the event sink) that stores and transports implement.
//!
//! Nothing here knows about HTTP, SQL or sockets, so a Rust service can embed the rules with
//! the in-memory store (feature `memory`) and any transport.

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
pub use ids::{ConversationId, MessageId, Seq, UserId};
pub use input::{AttachmentUrl, ClientMessageId, MessageBody, SearchQuery, Username};
pub use limits::Limits;
pub use mentions::{MAX_MENTIONS, UsernameKeys, mentioned};
pub use notice::NoticeBudget;
pub use paging::{MessageWindow, PageRequest, Paged};
pub use pins::{Pin, PinChanged, PinWrite, may_pin, too_many_pins};
pub use policy::Policy;
pub use ports::{
    AccountRepo, Appended, ConversationRepo, DirectPair, Directory, GroupRepo, Health, MessageRepo,
    NewMessage, Store, StreamRepo, StreamScope, UpsertUser, UserRepo,
};
pub use rate_limit::{KeyedLimiter, REFUSALS_METRIC, Rate, SendRate};
pub use reactions::{
    Reaction, ReactionChanged, ReactionKey, ReactionWrite, too_many_reaction_kinds,
};
pub use recovery::{RecoveryRepo, RecoverySession};
pub use send::{Recipient, SEND_DURATION_METRIC, SendMessage, SentMessage};
pub use service::{ChatService, ConversationMessages};
pub use stream::{STREAM_WRITERS, StreamEvent, StreamPosition, StreamToken, writer_of};
pub use sync::SyncPage;
pub use threads::{EXCERPT_GRAPHEMES, ReplyTo, Thread, attach_parents, excerpt};
