DROP TABLE recovery_session_rooms;
DROP TABLE recovery_sessions;
DROP TABLE stream_events;
DROP TABLE stream_writers;
