-- Threads: a parent's replies are counted and paged by (reply_to_id, seq). Only replies have
-- an entry, so a plain send writes no index entry for it.
DROP INDEX messages_reply_to_idx;
CREATE INDEX messages_replies_idx ON messages (reply_to_id, seq) WHERE reply_to_id IS NOT NULL;
