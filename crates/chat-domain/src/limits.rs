//! Bounds on what a client may send or ask for; the server reads them from configuration.

/// Every bound the rules enforce. The defaults suit a person chatting from an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest message content, in characters.
    pub max_message_chars: usize,
    /// Longest attachment URL, in bytes.
    pub max_attachment_url_len: usize,
    /// Longest search query, in characters.
    pub max_search_chars: usize,
    /// Largest page any list returns; bigger requests are clamped to it.
    pub max_page_size: u32,
    /// Page size of a message list when the client names none.
    pub default_message_page: u32,
    /// Page size of a conversation list when the client names none.
    pub default_conversation_page: u32,
    /// Most members a group may have, its creator included.
    pub max_group_members: usize,
    /// Longest group title, in characters.
    pub max_title_chars: usize,
    /// How long after sending a sender may edit a message: `None` for always, zero for never.
    pub edit_window: Option<std::time::Duration>,
    /// Most pinned messages one conversation may hold.
    pub max_pins: usize,
    /// Most different reaction keys one message may carry.
    pub max_reaction_kinds: usize,
    /// Most conversations one forward may copy a message into.
    pub max_forward_targets: usize,
    /// Most messages one user may have scheduled and not yet sent.
    pub max_scheduled_per_user: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_chars: 5_000,
            max_attachment_url_len: 2_048,
            max_search_chars: 200,
            max_page_size: 100,
            default_message_page: 50,
            default_conversation_page: 20,
            max_group_members: 1_000,
            max_title_chars: 100,
            edit_window: None,
            max_pins: 50,
            max_reaction_kinds: 20,
            max_forward_targets: 10,
            max_scheduled_per_user: 100,
        }
    }
}
