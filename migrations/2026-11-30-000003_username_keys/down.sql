UPDATE accounts a SET username_key = lower(u.username) FROM users u WHERE u.id = a.user_id;
ALTER TABLE accounts ALTER COLUMN username_key SET NOT NULL;
DROP INDEX users_username_key_idx;
ALTER TABLE users DROP COLUMN username_key;
CREATE INDEX users_username_prefix_idx ON users (lower(username) text_pattern_ops, id);
