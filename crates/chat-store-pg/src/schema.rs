// @generated automatically by Diesel CLI.

diesel::table! {
    accounts (user_id) {
        user_id -> Int8,
        username_key -> Nullable<Text>,
        password_hash -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    conversation_members (conversation_id, user_id) {
        conversation_id -> Int8,
        user_id -> Int8,
        role -> Text,
        last_read_seq -> Int8,
        last_read_at -> Nullable<Timestamptz>,
        joined_at -> Timestamptz,
    }
}

diesel::table! {
    conversations (id) {
        id -> Int8,
        kind -> Text,
        title -> Nullable<Text>,
        direct_user_low -> Nullable<Int8>,
        direct_user_high -> Nullable<Int8>,
        last_seq -> Int8,
        message_count -> Int8,
        last_message_seq -> Nullable<Int8>,
        last_message -> Nullable<Text>,
        last_message_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        avatar_url -> Nullable<Text>,
        created_by -> Nullable<Int8>,
        client_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        conversation_id -> Int8,
        seq -> Int8,
        sender_id -> Int8,
        content -> Text,
        attachment_url -> Nullable<Text>,
        client_message_id -> Nullable<Text>,
        reply_to_id -> Nullable<Int8>,
        edited_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        forwarded_message_id -> Nullable<Int8>,
        forwarded_conversation_id -> Nullable<Int8>,
        forwarded_sender_id -> Nullable<Int8>,
        mentions -> Nullable<Array<Int8>>,
    }
}

diesel::table! {
    recovery_session_rooms (pid, conversation_id) {
        pid -> Text,
        conversation_id -> Int8,
        since -> Array<Int8>,
    }
}

diesel::table! {
    recovery_sessions (pid) {
        pid -> Text,
        user_id -> Int8,
        base -> Array<Int8>,
        owner -> Text,
        left_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    stream_events (writer, position) {
        writer -> Int2,
        position -> Int8,
        conversation_id -> Int8,
        kind -> Text,
        message_id -> Nullable<Int8>,
        user_id -> Int8,
        seq -> Int8,
        created_at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        role -> Nullable<Text>,
        content -> Nullable<Text>,
        amount -> Nullable<Int8>,
    }
}

diesel::table! {
    message_reactions (message_id, key, user_id) {
        message_id -> Int8,
        key -> Text,
        user_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    pinned_messages (message_id) {
        message_id -> Int8,
        conversation_id -> Int8,
        pinned_by -> Int8,
        pinned_at -> Timestamptz,
    }
}

diesel::table! {
    message_versions (message_id, version) {
        message_id -> Int8,
        version -> Int4,
        content -> Text,
        written_at -> Timestamptz,
    }
}

diesel::table! {
    stream_writers (writer) {
        writer -> Int2,
        position -> Int8,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        display_name -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        username_key -> Nullable<Text>,
    }
}

diesel::joinable!(accounts -> users (user_id));
diesel::joinable!(conversation_members -> conversations (conversation_id));
diesel::joinable!(conversation_members -> users (user_id));
diesel::joinable!(messages -> conversations (conversation_id));
diesel::joinable!(message_versions -> messages (message_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(recovery_session_rooms -> recovery_sessions (pid));
diesel::joinable!(stream_events -> conversations (conversation_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    conversation_members,
    conversations,
    message_reactions,
    message_versions,
    messages,
    pinned_messages,
    recovery_session_rooms,
    recovery_sessions,
    stream_events,
    stream_writers,
    users,
);
