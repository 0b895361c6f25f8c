//! The composition root: the one place that knows every layer. It builds the pool and store,
//! the service over them, the HTTP app, and runs it until a shutdown signal.

use std::io;
use std::net::TcpListener;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use chat_api::DeadLetters;
use chat_api::auth::{
    Argon2Hasher, Authenticator, Identity, Provision, TokenIssuer, TokenVerifier, VerifyKey,
};
use chat_api::request_id::RequestId;
use chat_api::{
    AppState, BodyTimeout, BuiltinAccounts, ClientAddress, ClientBundle, WebSurface,
    response_headers,
};
use chat_domain::{Accounts, ChatService};
use chat_realtime::chat::LocalBus;
use chat_realtime::engineio::DisconnectReason;
use chat_store_pg::{PgStore, StoreError};

use crate::config::{BrowserSettings, Config};
use crate::realtime::{self, NodeBus};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be reached or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key or secret in the configuration cannot be used.
    #[error("{0}")]
    Config(String),
    /// A service could not be set up.
    #[error("could not start the chat service: {0}")]
    Service(#[from] chat_domain::ChatError),
    /// The cluster's bus could not be set up.
    #[error(transparent)]
    Bus(#[from] chat_bus_redis::BusError),
    /// The listening socket could not be opened.
    #[error("could not listen on {address}: {source}")]
    Listen {
        /// The address asked for.
        address: String,
        /// Why the system refused.
        source: io::Error,
    },
}

/// How long a connection the server closes may take to shut down: none, so that actix never
/// lingers reading (and dropping) what the client still sends.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::ZERO;

/// Tells every socket to go and waits until they have.
type CloseSockets = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A built server, bound to its port and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    close_sockets: CloseSockets,
}

impl Application {
    /// Connects to the database (applying migrations), wires the layers and binds the port;
    /// nothing is served until [`Application::run_until_stopped`].
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let verifier = TokenVerifier::new(&config.jwt).map_err(|e| {
            StartupError::Config(format!("JWT_PUBLIC_KEY: cannot use the key: {e}"))
        })?;
        let store = PgStore::connect(&config.database).await?;
        let cluster = match &config.cluster {
            Some(settings) => Some((realtime::cluster::bus(settings)?, settings)),
            None => None,
        };
        let bus: NodeBus = match &cluster {
            Some((redis, _)) => Arc::clone(redis) as NodeBus,
            None => {
                tracing::info!("no REDIS_URL: this node runs alone, on its in-process bus");
                Arc::new(LocalBus::default())
            }
        };
        let metrics = crate::prometheus::endpoint(&store, config.metrics_token.clone())?;
        let hub = realtime::hub(&config.sockets, &store, &bus).await?;
        if config.sockets.recovery.enabled {
            realtime::prune_sessions(store.clone(), config.sockets.recovery.window);
        }
        if let Some(webhooks) = &config.webhooks {
            crate::webhooks::start(
                &store,
                webhooks,
                &hub,
                cluster.as_ref().map(|(redis, _)| redis),
            )?;
        }
        let dead_letters: Arc<dyn DeadLetters> =
            Arc::new(crate::webhooks::OutboxDeadLetters(store.clone()));
        let dead_letters = web::Data::from(dead_letters);
        let chat = ChatService::new(store.clone(), bus, config.policy.clone());
        crate::scheduled::start(chat.clone(), config.schedule);
        let presence =
            cluster.map(|(redis, settings)| realtime::cluster::join(&redis, settings, &chat, &hub));
        let accounts = match (&config.jwt.key, config.builtin_accounts) {
            (VerifyKey::Hs256Secret(secret), true) => Some(BuiltinAccounts {
                accounts: Accounts::new(
                    store,
                    Argon2Hasher::new(config.hashing),
                    config.account_rates,
                )
                .await?,
                issuer: TokenIssuer::new(secret, config.api.token_ttl),
            }),
            _ => None,
        };
        let provisioning = chat.clone();
        let provision: Provision = Arc::new(move |identity: Identity| {
            let chat = provisioning.clone();
            Box::pin(async move {
                chat.provision_user(identity.user, identity.username)
                    .await
                    .map(drop)
            })
        });
        let authenticator = web::Data::new(Authenticator::new(verifier, provision));
        let engine = realtime::engine(
            &config.sockets,
            chat.clone(),
            hub,
            authenticator.clone(),
            presence,
        );
        let state = web::Data::new(AppState {
            chat,
            accounts,
            settings: config.api.clone(),
            web: web_surface(&config.browser),
        });
        let frontend_url = config.frontend_url.clone();
        let trusted_proxies = config.trusted_proxies.clone();

        let address = format!("{}:{}", config.host, config.port);
        let listen_error = |source| StartupError::Listen {
            address: address.clone(),
            source,
        };
        let listener = TcpListener::bind((config.host, config.port)).map_err(listen_error)?;
        let port = listener.local_addr().map_err(listen_error)?.port();

        // Middleware, outermost first: the client's address is settled behind trusted proxies
        // before anything reads it; the request id and access log see every request; the
        // response headers go on every answer, also CORS refusals; CORS answers preflights and
        // refuses foreign origins before any route runs; bodies get their deadline last, so
        // that its 408 passes through the rest.
        let sockets = Arc::clone(&engine);
        let body_timeout = config.body_timeout;
        let mut server = HttpServer::new(move || {
            let (state, authenticator) = (state.clone(), authenticator.clone());
            let sockets = Arc::clone(&sockets);
            let client_address = ClientAddress::new(trusted_proxies.clone());
            let metrics = metrics.clone();
            let dead_letters = dead_letters.clone();
            App::new()
                .wrap(BodyTimeout::new(body_timeout))
                .wrap(chat_api::cors(frontend_url.as_deref()))
                .wrap(from_fn(response_headers))
                .wrap(RequestId)
                .wrap(client_address)
                .configure(|cfg| sockets.configure(cfg, "/socket.io"))
                .configure(|cfg| metrics.configure(cfg))
                .app_data(dead_letters)
                .configure(|cfg| chat_api::configure(cfg, state, authenticator))
        })
        // A connection the server closes is closed at once: by default actix lingers for a
        // second reading (and dropping) what the client still sends, which let a client
        // streaming a refused WebSocket frame make the server read gigabytes.
        .client_disconnect_timeout(CLOSE_GRACE)
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout.as_secs());
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener).map_err(listen_error)?.run();
        let shutdown_timeout = config.shutdown_timeout;
        let close_sockets: CloseSockets = Box::new(move || {
            let engine = Arc::clone(&engine);
            Box::pin(async move {
                engine.close_all(DisconnectReason::ServerShutdown);
                if tokio::time::timeout(shutdown_timeout, engine.wait_closed())
                    .await
                    .is_err()
                {
                    tracing::warn!("some sockets did not close in time");
                }
            })
        });
        Ok(Application {
            port,
            server,
            close_sockets,
        })
    }

    /// The port actually bound (useful when the configuration asked for 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server gracefully from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM, then tells every socket to disconnect (so that clients
    /// reconnect elsewhere), stops accepting, lets in-flight requests finish (up to the
    /// configured timeout) and returns.
    pub async fn run_until_stopped(self) -> io::Result<()> {
        let handle = self.server.handle();
        let mut server = tokio::spawn(self.server);
        tokio::select! {
            finished = &mut server => return finished.map_err(io::Error::other)?,
            signal = shutdown_signal() => {
                signal?;
                tracing::info!("shutdown signal received; closing sockets, draining requests");
            }
        }
        (self.close_sockets)().await;
        handle.stop(true).await;
        server.await.map_err(io::Error::other)?
    }
}

/// The client bundle (read once, now) and the web app, as configured. A bundle that cannot be
/// read is reported here, once, with what installs it; its paths then answer 404.
fn web_surface(settings: &BrowserSettings) -> WebSurface {
    let client_bundle = if settings.serve_client {
        match ClientBundle::load(&settings.client_dir) {
            Ok(bundle) => {
                tracing::info!(dir = %settings.client_dir.display(), "serving the socket.io-client bundle at /socket.io/");
                Some(Arc::new(bundle))
            }
            Err(error) => {
                tracing::warn!(
                    %error,
                    "the socket.io-client bundle is not served (/socket.io/socket.io.js answers 404): \
                     install it with `npm ci` in web/ (`cargo xtask run` does), point CHAT_CLIENT_DIR \
                     at a socket.io-client dist/ directory, or set CHAT_SERVE_CLIENT=false"
                );
                None
            }
        }
    } else {
        None
    };
    if settings.web_app && client_bundle.is_none() {
        tracing::warn!("the web app at / needs the client bundle, which is not served");
    }
    WebSurface {
        client_bundle,
        app: settings.web_app,
    }
}

async fn shutdown_signal() -> io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = terminate.recv() => Ok(()),
    }
}
