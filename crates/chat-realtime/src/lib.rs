//! Realtime delivery for the chat server: Engine.IO v4 and Socket.IO v5 over actix-ws and
//! HTTP long-polling, rooms, presence and the fan-out hub that implements the domain's
//! event sink.

pub mod chat;
pub mod engineio;
pub mod observability;
pub mod socketio;

#[cfg(test)]
mod test_rng;
