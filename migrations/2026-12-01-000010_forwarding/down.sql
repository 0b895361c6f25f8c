ALTER TABLE messages
    DROP CONSTRAINT messages_forwarded_check,
    DROP COLUMN forwarded_message_id,
    DROP COLUMN forwarded_conversation_id,
    DROP COLUMN forwarded_sender_id;
