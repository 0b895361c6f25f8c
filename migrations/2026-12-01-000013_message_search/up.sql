-- Search. (IF NOT EXISTS: on a large history, an operator may build both indexes first with
-- CREATE INDEX CONCURRENTLY, so that the migration does not block sends; operations.md.)
-- Full-text search across conversations reads an expression index over the words of
-- visible messages; the index for the `simple` configuration (every language, no stemming) is
-- made here, and the server makes the one for another CHAT_SEARCH_LANGUAGE at start-up. Edits
-- and deletes keep it current, as with any index. Messages are plain text, not HTML: `<` is
-- read as a space, so that the parser never takes `x<y and y>z` for a tag and skips its words.
CREATE INDEX IF NOT EXISTS messages_search_simple_idx
    ON messages USING gin (to_tsvector('simple'::regconfig, replace(content, '<', ' ')))
    WHERE deleted_at IS NULL;

-- The per-conversation substring search (ILIKE) reads trigrams, so that it does not slow down
-- with history. pg_trgm is a trusted extension: the database owner may create it. Where it
-- already exists in another schema, its operator class is named there.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$
DECLARE
    home TEXT;
BEGIN
    SELECT n.nspname INTO home
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS messages_content_trgm_idx ON messages '
        'USING gin (content %I.gin_trgm_ops) '
        'WHERE deleted_at IS NULL',
        home);
END
$$;
