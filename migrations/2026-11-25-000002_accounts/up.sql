-- Built-in accounts: a password for users who register with the server itself. Usernames are
-- unique ignoring case here only, so users provisioned by the host application may share names.
CREATE TABLE accounts (
    user_id       BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    username_key  TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT accounts_username_key UNIQUE (username_key)
);

-- Finding people by username prefix, ignoring case (range scans with the ~>=~ / ~<~ operators).
CREATE INDEX users_username_prefix_idx ON users (lower(username) text_pattern_ops, id);
