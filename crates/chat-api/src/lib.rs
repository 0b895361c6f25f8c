//! The HTTP surface of the chat server, on actix-web: handlers parse a request, call one
//! [`chat_domain::ChatService`] method and map the result to the wire format.

mod health;
mod state;

pub use state::AppState;

use actix_web::web;
use chat_domain::{EventSink, Store};

/// Registers every route of the API with its shared state.
pub fn configure<S: Store, E: EventSink>(cfg: &mut web::ServiceConfig, state: AppState<S, E>) {
    cfg.app_data(web::Data::new(state));
    health::configure::<S, E>(cfg);
}
