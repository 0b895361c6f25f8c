-- Pinned messages: at most one pin per message, each with who pinned it and when. A pin goes
-- with its message (a deletion removes it) and with its conversation.
CREATE TABLE pinned_messages (
    message_id      BIGINT      PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id BIGINT      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    pinned_by       BIGINT      NOT NULL,
    pinned_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX pinned_messages_conversation_idx ON pinned_messages (conversation_id, pinned_at);

-- 'pinned' and 'unpinned': user_id is who did it, message_id and seq the message's.
ALTER TABLE stream_events DROP CONSTRAINT stream_events_kind_check;
ALTER TABLE stream_events
    ADD CONSTRAINT stream_events_kind_check CHECK (kind IN (
        'message', 'deleted', 'read', 'created', 'updated',
        'member_added', 'member_removed', 'member_role', 'edited', 'pinned', 'unpinned'));
