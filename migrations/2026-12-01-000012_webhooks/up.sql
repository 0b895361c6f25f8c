-- Webhooks for offline users: the outbox. With CHAT_WEBHOOK_URL set, the append batch writes
-- one row per message in the message's own transaction, so that no message is stored without
-- its row and no row exists without its message. The dispatcher claims due rows (FOR UPDATE
-- SKIP LOCKED, so that in a cluster one node takes each), fixes the event body at the first
-- attempt (`payload`: the offline recipients then; text, so that every retry sends the same
-- bytes under its signature), and records each attempt's outcome.
CREATE TABLE webhook_outbox (
    id              BIGSERIAL PRIMARY KEY,
    message_id      BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'skipped', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    payload         TEXT,
    last_error      TEXT,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_outbox_dead_idx ON webhook_outbox (id) WHERE state = 'dead';
CREATE INDEX webhook_outbox_finished_idx ON webhook_outbox (finished_at)
    WHERE state IN ('delivered', 'skipped');
CREATE INDEX webhook_outbox_message_idx ON webhook_outbox (message_id);
