-- Reactions: one row per member and key on a message. Keys keep the order they were first
-- used on a message through their earliest row.
CREATE TABLE message_reactions (
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    key        TEXT        NOT NULL,
    user_id    BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, key, user_id)
);

-- 'reaction_added' and 'reaction_removed': user_id is who reacted, message_id and seq the
-- message's, content the key, amount how many members react with the key after the change.
ALTER TABLE stream_events DROP CONSTRAINT stream_events_kind_check;
ALTER TABLE stream_events
    ADD CONSTRAINT stream_events_kind_check CHECK (kind IN (
        'message', 'deleted', 'read', 'created', 'updated', 'member_added', 'member_removed',
        'member_role', 'edited', 'pinned', 'unpinned', 'reaction_added', 'reaction_removed')),
    ADD COLUMN amount BIGINT;
