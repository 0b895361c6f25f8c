DROP INDEX messages_replies_idx;
CREATE INDEX messages_reply_to_idx ON messages (reply_to_id);
