-- Scheduled messages: sends stored for later, visible only to their sender until sent. A node
-- claims a due row by setting locked_until (FOR UPDATE SKIP LOCKED), sends it with the client
-- message id 'scheduled:<id>' and deletes it; a claim that runs out is taken again, and the
-- repeated client message id finds the message already sent.
CREATE TABLE scheduled_messages (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender_id         BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Exactly one: a conversation by id, or a user (their direct conversation, made on first
    -- contact when it is sent).
    conversation_id   BIGINT      REFERENCES conversations (id) ON DELETE CASCADE,
    receiver_id       BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    content           TEXT        NOT NULL,
    attachment_url    TEXT,
    reply_to_id       BIGINT,
    -- The sender's id for the scheduling itself, so that a retried request stores one row.
    client_message_id TEXT,
    send_at           TIMESTAMPTZ NOT NULL,
    locked_until      TIMESTAMPTZ,
    failure           TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT scheduled_messages_one_recipient
        CHECK ((conversation_id IS NULL) <> (receiver_id IS NULL)),
    CONSTRAINT scheduled_messages_sender_client_id_key UNIQUE (sender_id, client_message_id)
);

-- Due rows, soonest first, without the failed ones.
CREATE INDEX scheduled_messages_due_idx ON scheduled_messages (send_at, id) WHERE failure IS NULL;
-- A sender's list and count.
CREATE INDEX scheduled_messages_sender_idx ON scheduled_messages (sender_id, send_at);
CREATE INDEX scheduled_messages_conversation_idx ON scheduled_messages (conversation_id);
CREATE INDEX scheduled_messages_receiver_idx ON scheduled_messages (receiver_id);
