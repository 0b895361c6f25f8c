DROP INDEX messages_content_trgm_idx;
DROP INDEX messages_search_simple_idx;
