DELETE FROM stream_events WHERE kind IN ('pinned', 'unpinned');
ALTER TABLE stream_events DROP CONSTRAINT stream_events_kind_check;
ALTER TABLE stream_events
    ADD CONSTRAINT stream_events_kind_check CHECK (kind IN (
        'message', 'deleted', 'read', 'created', 'updated',
        'member_added', 'member_removed', 'member_role', 'edited'));
DROP TABLE pinned_messages;
