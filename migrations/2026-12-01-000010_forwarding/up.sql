-- Forwarded copies say where they came from: the original message, its conversation and its
-- sender, all three or none. No foreign keys: a copy keeps naming its origin after the
-- original is gone.
ALTER TABLE messages
    ADD COLUMN forwarded_message_id      BIGINT,
    ADD COLUMN forwarded_conversation_id BIGINT,
    ADD COLUMN forwarded_sender_id       BIGINT,
    ADD CONSTRAINT messages_forwarded_check CHECK (
        (forwarded_message_id IS NULL) = (forwarded_conversation_id IS NULL)
        AND (forwarded_message_id IS NULL) = (forwarded_sender_id IS NULL));
