//! Application start-up: connect, migrate, maybe seed the demo, build the schema once, bind
//! the listener (port 0 allowed) and run the HTTP server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;
use tracing_actix_web::TracingLogger;

use crate::config::{DEFAULT_DATABASE_URL, ServeArgs};
use crate::db;
use crate::domain::{EventBus, Governance};
use crate::graphql::{self, Limits};
use crate::http::{self, AppState};
use crate::seed;

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
    demo_tokens: Vec<DemoToken>,
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
    #[error("demo data: {0}")]
    Seed(#[from] crate::error::AppError),
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
        let anonymous_read = args.anonymous_read.unwrap_or(sqlite);
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
        };
        let governance = Governance::new(db.clone(), EventBus::default());
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let operations = args.max_concurrent_operations.unwrap_or(cores).max(1);
        let state = AppState {
            schema: graphql::build_schema(db.clone(), governance, limits),
            db: db.clone(),
            statements,
            anonymous_read,
            operations: Arc::new(Semaphore::new(operations)),
        };
        let server = run(listener, state).map_err(|source| StartError::Bind {
            bind: args.bind.clone(),
            source,
        })?;
        tracing::info!(
            port,
            anonymous_read,
            engine = if sqlite { "sqlite" } else { "postgres" },
            "listening"
        );
        Ok(Self {
            port,
            server,
            db,
            demo_tokens,
        })
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

    /// Serves until the server is stopped (SIGINT/SIGTERM drain in-flight requests).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .configure(http::routes)
    })
    .listen(listener)?
    .run();
    Ok(server)
}
