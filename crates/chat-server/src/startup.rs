//! The composition root: the one place that knows every layer. It builds the pool and store,
//! the service over them, the HTTP app, and runs it until a shutdown signal.

use std::io;
use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer};
use chat_api::AppState;
use chat_domain::{ChatService, DiscardEvents};
use chat_store_pg::{PgStore, StoreError};
use tracing_actix_web::TracingLogger;

use crate::config::Config;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be reached or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The listening socket could not be opened.
    #[error("could not listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: String,
        /// Why the system refused.
        source: io::Error,
    },
}

/// A built server, bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to the database (applying migrations), wires the layers and binds the port;
    /// nothing is served until [`Application::run_until_stopped`].
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let store = PgStore::connect(&config.database).await?;
        let chat = ChatService::new(store, DiscardEvents, config.policy.clone());
        let state = AppState::new(chat);

        let address = format!("{}:{}", config.host, config.port);
        let listen_error = |source| StartupError::Listen {
            address: address.clone(),
            source,
        };
        let listener = TcpListener::bind((config.host, config.port)).map_err(listen_error)?;
        let port = listener.local_addr().map_err(listen_error)?.port();

        // Middleware order, outermost first: request logging (with a request id) sees every
        // request, including those the routes reject.
        let mut server = HttpServer::new(move || {
            let state = AppState::new(state.chat.clone());
            App::new()
                .wrap(TracingLogger::default())
                .configure(|cfg| chat_api::configure(cfg, state))
        })
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout.as_secs());
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener).map_err(listen_error)?.run();
        Ok(Application { port, server })
    }

    /// The port actually bound (useful when the configuration asked for 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server gracefully from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, lets in-flight requests finish
    /// (up to the configured timeout) and returns.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        tokio::select! {
            finished = &mut server => return finished.map_err(io::Error::other)?,
            signal = shutdown_signal() => {
                signal?;
                tracing::info!("shutdown signal received; draining in-flight requests");
            }
        }
        handle.stop(true).await;
        server.await.map_err(io::Error::other)?
    }
}

async fn shutdown_signal() -> io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = terminate.recv() => Ok(()),
    }
}
