//! Application start-up: connect, migrate, maybe seed the demo, build the schema once, bind
//! the listener (port 0 allowed) and run the HTTP server.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, RETRY_AFTER};
use actix_web::middleware::Condition;
use actix_web::{App, HttpServer, web};
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;
use tracing_actix_web::TracingLogger;

use crate::config::{DEFAULT_DATABASE_URL, ServeArgs};
use crate::db;
use crate::domain::{EventBus, Governance};
use crate::graphql::{self, Limits};
use crate::http::{
    self, AppState, LiveSettings, Metrics, OperationSlots, PersistedQueries, RateLimits,
    RequestLimits,
};
use crate::relay;
use crate::seed;

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
    demo_tokens: Vec<DemoToken>,
    anonymous_read: (bool, &'static str),
    shutdown: watch::Sender<bool>,
}

/// A token issued for a demo persona at start-up.
#[derive(Debug, Clone)]
pub struct DemoToken {
    /// `admin`, `requester` or `release`.
    pub persona: &'static str,
    /// Who the persona is and what they may do.
    pub description: &'static str,
    /// The person's e-mail.
    pub email: String,
    /// The bearer token.
    pub token: String,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error("demo data: {}", .0.operator_message())]
    Seed(#[from] crate::error::AppError),
    #[error("event listener: {0}")]
    Listener(#[from] sea_orm::sqlx::Error),
    #[error("webhook worker: {0}")]
    Webhooks(String),
}

impl Application {
    /// Connects, migrates, seeds the demo when asked (or on the embedded default with an
    /// empty database) and binds the listener.
    pub async fn build(database_url: &str, args: &ServeArgs) -> Result<Self, StartError> {
        let (db, statements) = db::connect(database_url, args.db_max_connections).await?;
        db::migrate(&db).await?;
        let embedded_default = database_url == DEFAULT_DATABASE_URL;
        let demo = args.demo || embedded_default;
        if demo && seed::is_empty(&db).await? {
            let counts = seed::demo::load(&db).await?;
            tracing::info!(%counts, "loaded the demo portfolio");
        }
        let demo_tokens = if demo {
            seed::demo::issue_tokens(&db)
                .await?
                .into_iter()
                .map(|(persona, description, t)| DemoToken {
                    persona,
                    description,
                    email: t.email,
                    token: t.token,
                })
                .collect()
        } else {
            Vec::new()
        };
        let sqlite = db::is_sqlite(&db);
        let (anonymous_read, why) = crate::config::anonymous_read(args, database_url);
        let listener = TcpListener::bind(&args.bind).map_err(|source| StartError::Bind {
            bind: args.bind.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                bind: args.bind.clone(),
                source,
            })?
            .port();
        let limits = Limits {
            depth: args.max_depth,
            complexity: args.max_complexity,
            introspection: args.introspection,
        };
        let (shutdown, stopping) = watch::channel(false);
        let bus = if sqlite {
            EventBus::in_process(args.event_buffer)
        } else {
            let bus = EventBus::notify(args.event_buffer);
            relay::start(database_url, db.clone(), bus.clone(), stopping.clone()).await?;
            bus
        };
        let governance = Governance::new(db.clone(), bus.clone());
        let webhook_stats = crate::webhooks::Stats::default();
        if args.webhook_worker {
            start_webhook_worker(
                database_url,
                &db,
                args,
                &governance,
                &webhook_stats,
                &stopping,
            )
            .await?;
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (operations, _) = crate::config::concurrent_operations(args.max_concurrent_operations);
        let connections = Arc::default();
        let state = AppState {
            governance: governance.clone(),
            schema: graphql::build_schema(db.clone(), governance, limits),
            db: db.clone(),
            anonymous_read,
            operations_per_worker: operations.div_ceil(cores),
            limits: RequestLimits {
                max_body_bytes: args.max_body_bytes,
                max_batch: args.max_batch.max(1),
                max_aliases: args.max_aliases,
                timeout: args.request_timeout,
                slow: args.slow_request,
                loader_delay: args.loader_delay,
            },
            persisted: Arc::new(PersistedQueries::new(args.apq_cache)),
            metrics: Arc::new(Metrics::new(
                db.clone(),
                statements,
                bus,
                Arc::clone(&connections),
                webhook_stats,
            )),
            live: LiveSettings {
                ping_interval: args.ws_ping_interval,
                idle_timeout: args.ws_idle_timeout,
                send_timeout: args.ws_send_timeout,
                shutdown: stopping,
                connections,
                loader: graphql::loaders::shared_loader(db.clone(), args.loader_delay),
            },
            rate: Arc::new(RateLimits::new(args.rate_limit, args.rate_burst)),
            token_use: Arc::default(),
            change_url: args.change_url.clone(),
        };
        let site = Site {
            graphiql: args.graphiql,
            cors_origins: args.cors_origins.clone(),
            workers: cores,
        };
        let server = run(listener, state, site).map_err(|source| StartError::Bind {
            bind: args.bind.clone(),
            source,
        })?;
        tracing::info!(
            port,
            anonymous_read,
            anonymous_read_because = why,
            engine = if sqlite { "sqlite" } else { "postgres" },
            "listening"
        );
        Ok(Self {
            port,
            server,
            db,
            demo_tokens,
            anonymous_read: (anonymous_read, why),
            shutdown,
        })
    }

    /// Whether reads without a token are allowed, and why (see
    /// [`crate::config::anonymous_read`]).
    pub fn anonymous_read(&self) -> (bool, &'static str) {
        self.anonymous_read
    }

    /// The tokens issued for the demo personas (empty unless in demo mode).
    pub fn demo_tokens(&self) -> &[DemoToken] {
        &self.demo_tokens
    }

    /// The database pool, for operators' tasks beside the server (and tests minting tokens).
    pub fn database(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then shuts down cleanly: WebSocket clients get a
    /// 1001 close, new connections are refused, and in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let shutdown = self.shutdown;
        let server = tokio::spawn(self.server);
        stop_signal().await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = shutdown.send(true);
        handle.stop(true).await;
        server.await.map_err(std::io::Error::other)?
    }

    /// Stops the server as a signal would (for tests).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            server: self.server.handle(),
            live: self.shutdown.clone(),
        }
    }
}

/// Starts the webhook delivery worker. On PostgreSQL it has a small pool of its own, so
/// that its polling neither waits for the API's connections nor counts among its
/// statements; on SQLite it shares the pool and the writers' queue.
async fn start_webhook_worker(
    database_url: &str,
    db: &DatabaseConnection,
    args: &ServeArgs,
    governance: &Governance,
    stats: &crate::webhooks::Stats,
    stopping: &watch::Receiver<bool>,
) -> Result<(), StartError> {
    let sqlite = db::is_sqlite(db);
    let worker = if sqlite {
        governance.clone()
    } else {
        let (own, _) = db::connect(database_url, Some(2)).await?;
        Governance::new(own, governance.bus().clone())
    };
    let (_, first_due) = worker
        .outbox_state()
        .await
        .map_err(|e| StartError::Webhooks(e.operator_message()))?;
    let settings = crate::webhooks::Settings {
        timeout: args.webhook_timeout,
        connect_timeout: args.webhook_timeout.min(std::time::Duration::from_secs(5)),
        first_retry: args.webhook_first_retry,
        max_age: args.webhook_max_age,
        concurrency: args.webhook_concurrency,
        poll: (!sqlite).then_some(args.webhook_poll),
        retention: args.webhook_retention,
        ..Default::default()
    };
    crate::webhooks::start(worker, settings, stats.clone(), first_due, stopping.clone())
        .map_err(|e| StartError::Webhooks(e.to_string()))
}

/// Stops a running server gracefully from elsewhere.
#[derive(Clone)]
pub struct ShutdownHandle {
    server: actix_web::dev::ServerHandle,
    live: watch::Sender<bool>,
}

impl ShutdownHandle {
    /// Closes WebSockets with 1001, then drains in-flight requests and stops.
    pub async fn stop(&self) {
        let _ = self.live.send(true);
        self.server.stop(true).await;
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What the HTTP app serves besides the API.
struct Site {
    graphiql: bool,
    cors_origins: Vec<String>,
    /// Worker threads, one per core.
    workers: usize,
}

fn run(listener: TcpListener, state: AppState, site: Site) -> std::io::Result<Server> {
    let per_worker = state.operations_per_worker;
    let workers = site.workers;
    let data = web::Data::new(state);
    let routes = http::routes(site.graphiql);
    let origins = site.cors_origins;
    let server = HttpServer::new(move || {
        let cors = origins
            .iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
            .allowed_methods(["GET", "POST"])
            .allowed_headers([
                AUTHORIZATION,
                CONTENT_TYPE,
                ACCEPT,
                HeaderName::from_static(crate::http::DRY_RUN),
            ])
            // A portal backs off as the server asks only if it can read the header.
            .expose_headers([RETRY_AFTER])
            .max_age(3600);
        App::new()
            .wrap(Condition::new(!origins.is_empty(), cors))
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .app_data(web::Data::new(OperationSlots::new(per_worker)))
            .configure(routes.clone())
            // Outermost: a calendar token leaves the URL before anything logs it.
            .wrap(actix_web::middleware::from_fn(http::token_from_query))
    })
    .workers(workers)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}
