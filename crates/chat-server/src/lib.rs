//! The chat server: configuration, wiring and the lifecycle of the process. Tests build the
//! same [`Application`] as `main`, on port 0.

pub mod cli;
pub mod config;
pub mod import;
mod prometheus;
mod realtime;
pub mod scheduled;
pub mod startup;
pub mod telemetry;
mod webhooks;

pub use config::Config;
pub use startup::{Application, StartupError};
