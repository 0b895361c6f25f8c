-- One case rule for every case-insensitive match of names: a key column holding the NFC form of
-- the Unicode full case folding of the name, computed by the server (chat_domain::case_key),
-- because SQL lower() lowercases by the collation's rules, which disagree with Rust's and with
-- folding (İ, final Σ, ß). Rows written before this migration get their keys from the server at
-- start-up (keys are NULL until then).
ALTER TABLE users ADD COLUMN username_key TEXT;

-- Finding people by username prefix ignoring case (range scans with ~>=~ / ~<~ on the key).
DROP INDEX users_username_prefix_idx;
CREATE INDEX users_username_key_idx ON users (username_key text_pattern_ops, id);

-- Accounts stay unique by key; the old lower() keys are recomputed by the server at start-up.
ALTER TABLE accounts ALTER COLUMN username_key DROP NOT NULL;
UPDATE accounts SET username_key = NULL;
