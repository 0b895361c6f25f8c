DROP INDEX stream_events_membership_idx;
DELETE FROM stream_events
 WHERE kind IN ('created', 'updated', 'member_added', 'member_removed', 'member_role');
ALTER TABLE stream_events DROP COLUMN role, DROP COLUMN actor_id;
ALTER TABLE stream_events DROP CONSTRAINT stream_events_kind_check;
ALTER TABLE stream_events
    ADD CONSTRAINT stream_events_kind_check CHECK (kind IN ('message', 'deleted', 'read'));
ALTER TABLE conversations
    DROP CONSTRAINT conversations_creator_request_key,
    DROP COLUMN client_request_id,
    DROP COLUMN created_by,
    DROP COLUMN avatar_url;
