-- Mentions: the members a message mentions, resolved when it is sent. The record carries
-- them (messages.mentions, NULL for none); message_mentions lists each user's mentions,
-- newest first, by key.
ALTER TABLE messages ADD COLUMN mentions BIGINT[];

CREATE TABLE message_mentions (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX message_mentions_message_idx ON message_mentions (message_id);
