-- The event stream: every change a client must see again after a disconnect (a message sent or
-- deleted, a read watermark moved) gets a position from one of a fixed set of writers. A
-- writer is a counter row that a transaction bumps as its last write, so each writer's
-- positions are gapless and in commit order; a conversation always writes through writer
-- `conversation_id % 8` (chat_domain::writer_of; the count is chat_domain::STREAM_WRITERS), so
-- a writer's order is also each of its conversations' order.
CREATE TABLE stream_writers (
    writer   SMALLINT PRIMARY KEY CHECK (writer >= 0),
    position BIGINT   NOT NULL DEFAULT 0
);
INSERT INTO stream_writers (writer) SELECT generate_series(0, 7);

CREATE TABLE stream_events (
    writer          SMALLINT    NOT NULL,
    position        BIGINT      NOT NULL,
    conversation_id BIGINT      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind            TEXT        NOT NULL CHECK (kind IN ('message', 'deleted', 'read')),
    -- The message sent or deleted; NULL for a read. No foreign key: messages are only ever
    -- removed with their conversation, which takes its events along.
    message_id      BIGINT,
    -- The sender, the deleter or the reader.
    user_id         BIGINT      NOT NULL,
    -- The message's seq, or the new read watermark.
    seq             BIGINT      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (writer, position)
);

-- Replay and sync read one reader's conversations from a token.
CREATE INDEX stream_events_conversation_idx ON stream_events (conversation_id, writer, position);

-- Socket.IO connection state recovery: a session lives here, not in a process, so that a
-- client recovers after a restart or a crash. `owner` is the socket holding it now; `left_at`
-- is when it was last let go (the recovery window counts from there).
CREATE TABLE recovery_sessions (
    pid        TEXT        PRIMARY KEY,
    -- Not a foreign key: a session only names whose token may claim it.
    user_id    BIGINT      NOT NULL,
    -- The stream token when the session connected, one position per writer.
    base       BIGINT[]    NOT NULL,
    owner      TEXT        NOT NULL,
    left_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX recovery_sessions_left_idx ON recovery_sessions (left_at);

CREATE TABLE recovery_session_rooms (
    pid             TEXT     NOT NULL REFERENCES recovery_sessions (pid) ON DELETE CASCADE,
    -- Not a foreign key: replay reads only conversations the user is a member of now.
    conversation_id BIGINT   NOT NULL,
    -- The stream token when the session joined the room.
    since           BIGINT[] NOT NULL,
    PRIMARY KEY (pid, conversation_id)
);
