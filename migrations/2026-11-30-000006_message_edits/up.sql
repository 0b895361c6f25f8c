-- Edits: a message's earlier versions, and the stream event of each edit.
--
-- message_versions keeps every version a message had before its current one (version 1 is
-- what was sent; the current text stays in messages.content), each with when it was written.
CREATE TABLE message_versions (
    message_id BIGINT      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    version    INTEGER     NOT NULL CHECK (version > 0),
    content    TEXT        NOT NULL,
    written_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, version)
);

-- 'edited': user_id is the editor (the sender), seq the message's, content the text the edit
-- wrote (so that a replay shows each edit as it was, not only the last one); a deletion
-- clears the content of its message's edits.
ALTER TABLE stream_events DROP CONSTRAINT stream_events_kind_check;
ALTER TABLE stream_events
    ADD CONSTRAINT stream_events_kind_check CHECK (kind IN (
        'message', 'deleted', 'read', 'created', 'updated',
        'member_added', 'member_removed', 'member_role', 'edited')),
    ADD COLUMN content TEXT;
