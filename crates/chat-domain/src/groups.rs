//! Group conversations: their validated input, the changes a member may ask for, and the
//! policy that says which role may make which change. The policy is plain functions over
//! roles so that every store applies it inside the transaction that makes the change (a role
//! read outside it could change before the write).

use chrono::{DateTime, Utc};
use icu_properties::CodePointMapData;
use icu_properties::props::GeneralCategory;

use crate::input::check_text;
use crate::{
    AttachmentUrl, ChatError, ClientMessageId, ConversationDetail, ConversationKind, Limits, Role,
    StreamEvent, UserId, nfc,
};

/// A group's name: trimmed, in NFC, 1 to [`Limits::max_title_chars`] characters, without
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTitle(String);

impl GroupTitle {
    /// Validates a title from a client.
    pub fn parse(raw: impl AsRef<str>, limits: &Limits) -> Result<Self, ChatError> {
        const FIELD: &str = "title";
        let title = nfc(raw.as_ref().trim());
        if title.is_empty() {
            return Err(ChatError::invalid(FIELD, "must not be empty"));
        }
        if title.chars().count() > limits.max_title_chars {
            return Err(ChatError::invalid(
                FIELD,
                format!("must be at most {} characters", limits.max_title_chars),
            ));
        }
        check_text(FIELD, &title)?;
        check_title(FIELD, &title)?;
        Ok(GroupTitle(title))
    }

    /// The validated title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A title is one line, shows something, and cannot turn the text around it: no line breaks or
/// tabs, not only invisible characters (General_Category Cf: zero-width space, joiners, ...),
/// and none of the bidirectional embeddings, overrides and isolates (U+202A-202E,
/// U+2066-2069) that would reorder the text after it in a conversation list. Joiners inside
/// emoji are kept: a family emoji is a fine title.
fn check_title(field: &'static str, title: &str) -> Result<(), ChatError> {
    if title.contains(['\n', '\r', '\t']) {
        return Err(ChatError::invalid(field, "must be a single line"));
    }
    if title
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(ChatError::invalid(
            field,
            "must not contain text-direction characters",
        ));
    }
    let categories = CodePointMapData::<GeneralCategory>::new();
    if title
        .chars()
        .all(|c| c.is_whitespace() || categories.get(c) == GeneralCategory::Format)
    {
        return Err(ChatError::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// A group to create. The creator becomes its `owner`, everyone else a `member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    /// The caller, who owns the new group.
    pub creator: UserId,
    /// Its name.
    pub title: GroupTitle,
    /// The other members: distinct, without the creator, ascending (may be empty: a group of
    /// one holds notes to self).
    pub members: Vec<UserId>,
    /// The creator's own id for the request: a retry with the same id answers with the group
    /// created the first time.
    pub client_request_id: Option<ClientMessageId>,
}

impl NewGroup {
    /// Validates a create request: the title, and the member list (duplicates and the creator
    /// dropped) within [`Limits::max_group_members`] counting the creator.
    pub fn parse(
        creator: UserId,
        title: &str,
        member_ids: Vec<UserId>,
        client_request_id: Option<String>,
        limits: &Limits,
    ) -> Result<Self, ChatError> {
        let title = GroupTitle::parse(title, limits)?;
        let members = distinct_users("memberIds", member_ids, Some(creator), limits, 1)?;
        Ok(NewGroup {
            creator,
            title,
            members,
            client_request_id: client_request_id
                .map(|id| ClientMessageId::parse_field("clientRequestId", id))
                .transpose()?,
        })
    }
}

/// Sorts and deduplicates a list of user ids, without `except`, and bounds it so that the
/// group stays within [`Limits::max_group_members`] with `already` members.
fn distinct_users(
    field: &'static str,
    mut ids: Vec<UserId>,
    except: Option<UserId>,
    limits: &Limits,
    already: usize,
) -> Result<Vec<UserId>, ChatError> {
    ids.sort_unstable();
    ids.dedup();
    ids.retain(|id| Some(*id) != except);
    if ids.len().saturating_add(already) > limits.max_group_members {
        return Err(ChatError::invalid(
            field,
            format!(
                "would make the group larger than {} members",
                limits.max_group_members
            ),
        ));
    }
    Ok(ids)
}

/// New settings for a group; `None` leaves a setting as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupPatch {
    /// A new title.
    pub title: Option<GroupTitle>,
    /// A new picture (`Some(None)` removes it).
    pub avatar_url: Option<Option<AttachmentUrl>>,
}

/// A change to a group, as a member asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    /// New title or picture (admin or owner).
    Update(GroupPatch),
    /// New members, ascending and distinct; those already in are left as they are (admin or
    /// owner).
    AddMembers(Vec<UserId>),
    /// A member leaves (anyone, for themselves) or is removed (an owner; an admin for plain
    /// members). The last owner to go hands ownership on, see [`successor`].
    RemoveMember(UserId),
    /// A member's new role (owner only).
    SetRole(UserId, Role),
}

/// What a group change or creation wrote: the conversation as it is now, and the events to
/// announce (in stream order; empty when nothing changed, or for a retried create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupWrite {
    /// The conversation with its members after the change.
    pub conversation: ConversationDetail,
    /// What happened, each at its place in the stream.
    pub events: Vec<StreamEvent>,
}

/// Whether `actor` (with role `actor_role`) may make `change` to a conversation of `kind`;
/// `target_role` is the role of the member the change names, if it names one who belongs.
/// The rule, after Matrix power levels and Mattermost channel roles in their simplest form:
/// owners do everything, admins manage plain members and settings, members leave.
pub fn authorize(
    kind: ConversationKind,
    actor: UserId,
    actor_role: Role,
    change: &GroupChange,
    target_role: Option<Role>,
) -> Result<(), ChatError> {
    if kind == ConversationKind::Direct {
        return Err(ChatError::forbidden(
            "a direct conversation has no settings and keeps its two members",
        ));
    }
    let manager = matches!(actor_role, Role::Owner | Role::Admin);
    match change {
        GroupChange::Update(_) | GroupChange::AddMembers(_) if manager => Ok(()),
        GroupChange::Update(_) | GroupChange::AddMembers(_) => Err(ChatError::forbidden(
            "only an admin or the owner may do this",
        )),
        GroupChange::RemoveMember(target) if *target == actor => Ok(()),
        GroupChange::RemoveMember(_) => match (actor_role, target_role) {
            (Role::Owner, _) | (Role::Admin, Some(Role::Member) | None) => Ok(()),
            (Role::Admin, _) => Err(ChatError::forbidden(
                "only an owner may remove an admin or an owner",
            )),
            (Role::Member, _) => Err(ChatError::forbidden(
                "only an admin or the owner may remove members",
            )),
        },
        GroupChange::SetRole(..) if actor_role == Role::Owner => Ok(()),
        GroupChange::SetRole(..) => Err(ChatError::forbidden("only an owner may change roles")),
    }
}

/// One member as [`successor`] weighs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seniority {
    /// The member.
    pub user: UserId,
    /// Their role.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// Who becomes owner when the last owner leaves: the admin who joined first, else the member
/// who joined first (ties by id); `None` when nobody remains or an owner still does.
pub fn successor(remaining: &[Seniority]) -> Option<UserId> {
    if remaining.iter().any(|m| m.role == Role::Owner) {
        return None;
    }
    let oldest = |role: Role| {
        remaining
            .iter()
            .filter(move |m| m.role == role)
            .min_by_key(|m| (m.joined_at, m.user))
            .map(|m| m.user)
    };
    oldest(Role::Admin).or_else(|| oldest(Role::Member))
}

/// Refuses a role change that would leave a group without an owner: demoting the last one.
pub fn keeps_an_owner(owners_after: usize) -> Result<(), ChatError> {
    if owners_after == 0 {
        return Err(ChatError::Conflict(
            "a group keeps at least one owner: make someone else owner first".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const OWNER: UserId = UserId(1);
    const ADMIN: UserId = UserId(2);
    const MEMBER: UserId = UserId(3);

    fn check(actor: UserId, role: Role, change: GroupChange, target: Option<Role>) -> bool {
        authorize(ConversationKind::Group, actor, role, &change, target).is_ok()
    }

    #[test]
    fn owners_do_everything_admins_manage_members_and_members_leave() {
        let update = || GroupChange::Update(GroupPatch::default());
        let add = || GroupChange::AddMembers(vec![UserId(9)]);
        for (role, allowed) in [
            (Role::Owner, true),
            (Role::Admin, true),
            (Role::Member, false),
        ] {
            let actor = UserId(5);
            assert_eq!(check(actor, role, update(), None), allowed, "{role:?}");
            assert_eq!(check(actor, role, add(), None), allowed, "{role:?}");
            assert!(check(
                actor,
                role,
                GroupChange::RemoveMember(actor),
                Some(role)
            ));
        }
        let remove = GroupChange::RemoveMember;
        assert!(check(OWNER, Role::Owner, remove(ADMIN), Some(Role::Admin)));
        assert!(check(
            ADMIN,
            Role::Admin,
            remove(MEMBER),
            Some(Role::Member)
        ));
        assert!(!check(ADMIN, Role::Admin, remove(OWNER), Some(Role::Owner)));
        assert!(!check(
            ADMIN,
            Role::Admin,
            remove(UserId(7)),
            Some(Role::Admin)
        ));
        assert!(!check(
            MEMBER,
            Role::Member,
            remove(ADMIN),
            Some(Role::Admin)
        ));
        let promote = |user| GroupChange::SetRole(user, Role::Admin);
        assert!(check(
            OWNER,
            Role::Owner,
            promote(MEMBER),
            Some(Role::Member)
        ));
        assert!(!check(
            ADMIN,
            Role::Admin,
            promote(MEMBER),
            Some(Role::Member)
        ));
    }

    #[test]
    fn a_direct_conversation_refuses_every_change_even_leaving() {
        for change in [
            GroupChange::Update(GroupPatch::default()),
            GroupChange::RemoveMember(OWNER),
            GroupChange::SetRole(ADMIN, Role::Owner),
        ] {
            let refused = authorize(ConversationKind::Direct, OWNER, Role::Owner, &change, None);
            assert!(
                matches!(refused, Err(ChatError::Forbidden(_))),
                "{change:?}"
            );
        }
    }

    #[test]
    fn ownership_goes_to_the_oldest_admin_else_the_oldest_member() {
        let at = |s| Utc.timestamp_opt(s, 0).single().unwrap_or_default();
        let member = |id, role, joined| Seniority {
            user: UserId(id),
            role,
            joined_at: at(joined),
        };
        let members = [
            member(4, Role::Member, 10),
            member(5, Role::Admin, 30),
            member(6, Role::Admin, 20),
        ];
        assert_eq!(successor(&members), Some(UserId(6)));
        assert_eq!(successor(&members[..1]), Some(UserId(4)));
        let tie = [member(8, Role::Member, 10), member(7, Role::Member, 10)];
        assert_eq!(successor(&tie), Some(UserId(7)));
        assert_eq!(successor(&[member(9, Role::Owner, 0)]), None);
        assert_eq!(successor(&[]), None);
    }

    #[test]
    fn member_lists_are_deduplicated_bounded_and_never_hold_the_creator() {
        let limits = Limits {
            max_group_members: 3,
            ..Limits::default()
        };
        let ids = |v: &[i64]| v.iter().copied().map(UserId).collect::<Vec<_>>();
        let group = NewGroup::parse(OWNER, " Team ", ids(&[3, 2, 3, 1]), None, &limits).unwrap();
        assert_eq!(
            (group.title.as_str(), group.members),
            ("Team", ids(&[2, 3]))
        );
        let too_many = NewGroup::parse(OWNER, "Team", ids(&[2, 3, 4]), None, &limits);
        assert!(matches!(
            too_many,
            Err(ChatError::Invalid {
                field: "memberIds",
                ..
            })
        ));
        for bad in [
            "",
            "   ",
            &"x".repeat(101),
            "a\u{0}b",
            "a\nb",
            "a\u{202E}b",
            "\u{200B}",
        ] {
            assert!(
                GroupTitle::parse(bad, &Limits::default()).is_err(),
                "{bad:?}"
            );
        }
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} Family";
        assert!(GroupTitle::parse(family, &Limits::default()).is_ok());
    }
}
