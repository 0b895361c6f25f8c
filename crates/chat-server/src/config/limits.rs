//! Bounds on what clients send and keep: message and title lengths, page and group sizes, the
//! edit window, pins, reaction keys and forward targets.

use std::time::Duration;

use chat_domain::Limits;

use super::{ConfigError, Source, bad, positive};

/// `CHAT_MAX_MESSAGE_CHARS`, `CHAT_MAX_PAGE_SIZE`, `CHAT_MAX_GROUP_MEMBERS`,
/// `CHAT_MAX_TITLE_CHARS`, `CHAT_EDIT_WINDOW_SECS` (unset: no limit; 0: edits are refused),
/// `CHAT_MAX_PINS`, `CHAT_MAX_REACTION_KINDS` and `CHAT_MAX_FORWARD_TARGETS`.
pub(super) fn limits(src: &impl Source) -> Result<Limits, ConfigError> {
    Ok(Limits {
        max_message_chars: positive(src, "CHAT_MAX_MESSAGE_CHARS", 5_000)?,
        max_page_size: u32::try_from(positive(src, "CHAT_MAX_PAGE_SIZE", 100)?)
            .map_err(|_| bad("CHAT_MAX_PAGE_SIZE", "is too large"))?,
        max_group_members: positive(src, "CHAT_MAX_GROUP_MEMBERS", 1_000)?,
        max_title_chars: positive(src, "CHAT_MAX_TITLE_CHARS", 100)?,
        // Unset: no limit; 0: edits are refused.
        edit_window: src
            .get("CHAT_EDIT_WINDOW_SECS")
            .map(|raw| {
                raw.trim()
                    .parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| {
                        bad(
                            "CHAT_EDIT_WINDOW_SECS",
                            format!("expected a number of seconds, got {raw:?}"),
                        )
                    })
            })
            .transpose()?,
        max_pins: positive(src, "CHAT_MAX_PINS", 50)?,
        max_reaction_kinds: positive(src, "CHAT_MAX_REACTION_KINDS", 20)?,
        max_forward_targets: positive(src, "CHAT_MAX_FORWARD_TARGETS", 10)?,
        max_scheduled_per_user: u32::try_from(positive(src, "CHAT_MAX_SCHEDULED_PER_USER", 100)?)
            .unwrap_or(u32::MAX),
        ..Limits::default()
    })
}
