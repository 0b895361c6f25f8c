DELETE FROM stream_events WHERE kind IN ('reaction_added', 'reaction_removed');
ALTER TABLE stream_events DROP COLUMN amount;
ALTER TABLE stream_events DROP CONSTRAINT stream_events_kind_check;
ALTER TABLE stream_events
    ADD CONSTRAINT stream_events_kind_check CHECK (kind IN (
        'message', 'deleted', 'read', 'created', 'updated', 'member_added', 'member_removed',
        'member_role', 'edited', 'pinned', 'unpinned'));
DROP TABLE message_reactions;
