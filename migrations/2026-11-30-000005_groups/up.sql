-- Groups: a picture, who created a group and with which request id (so that a retried create
-- answers with the group made the first time), and the membership events of the stream.
ALTER TABLE conversations
    ADD COLUMN avatar_url        TEXT,
    ADD COLUMN created_by        BIGINT,
    ADD COLUMN client_request_id TEXT,
    ADD CONSTRAINT conversations_creator_request_key UNIQUE (created_by, client_request_id);

-- A group's creation or new settings ('created', 'updated': user_id is who did it), and a
-- member added, removed or given a role ('member_added', 'member_removed', 'member_role':
-- user_id is the member, actor_id who did it, role the member's role after the change, or
-- before it for a removal). seq is 0 for all of them.
ALTER TABLE stream_events DROP CONSTRAINT stream_events_kind_check;
ALTER TABLE stream_events
    ADD CONSTRAINT stream_events_kind_check CHECK (kind IN (
        'message', 'deleted', 'read', 'created', 'updated',
        'member_added', 'member_removed', 'member_role')),
    ADD COLUMN actor_id BIGINT,
    ADD COLUMN role     TEXT CHECK (role IN ('owner', 'admin', 'member'));

-- Replay and sync read a reader's conversations from where they joined (their latest
-- 'member_added') and the ones they were removed from up to their removal.
CREATE INDEX stream_events_membership_idx ON stream_events (user_id, conversation_id, position)
    WHERE kind IN ('member_added', 'member_removed');
