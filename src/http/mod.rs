//! HTTP wiring, the one place that knows about actix-web: `/graphql` (POST, GET and
//! WebSocket), CSV exports, GraphiQL with its assets served offline, health, readiness and
//! metrics.

mod calendar;
mod csv;
mod export;
mod graphiql;
mod graphql;
mod live;
mod metrics;
mod rate;
mod transport_ws;

pub use graphql::{DRY_RUN, PersistedQueries, RequestLimits};
pub use live::LiveSettings;
pub use metrics::Metrics;
pub use rate::RateLimits;

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::{self, TokenUse};
use crate::domain::Governance;
use crate::error::AppError;
use crate::graphql::AppSchema;
use crate::graphql::viewer::Viewer;

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    /// The use cases, from which a request sent with `Dry-Run: true` opens its dry run.
    pub governance: Governance,
    pub db: DatabaseConnection,
    /// Whether requests without a token may read.
    pub anonymous_read: bool,
    /// Operations each worker thread executes at once (see [`OperationSlots`]).
    pub operations_per_worker: usize,
    /// Body, batch, alias, time limits of GraphQL requests.
    pub limits: RequestLimits,
    /// Documents known by hash (automatic persisted queries).
    pub persisted: Arc<PersistedQueries>,
    /// Request counters and latency histograms, and what `/metrics` reads live.
    pub metrics: Arc<Metrics>,
    /// WebSocket keep-alive, back-pressure and shutdown.
    pub live: LiveSettings,
    /// Operations per second per caller.
    pub rate: Arc<RateLimits>,
    /// When each token's last use was written.
    pub token_use: Arc<TokenUse>,
    /// The portal's page of a change, `{number}` replaced (calendar links); none: GraphiQL.
    pub change_url: Option<String>,
}

pub use calendar::token_from_query;

/// Permits to execute an operation, one set per worker thread (registered by the app
/// factory, which runs once on each worker).
///
/// A server on two cores gains nothing from building thirty answers at once, and each one in
/// flight holds its whole response in memory. An operation runs entirely on the worker that
/// accepted it, so one pool of permits for the whole server could hand them all to one
/// worker while the other idles; per worker, every core stays busy.
#[derive(Debug)]
pub struct OperationSlots(Arc<Semaphore>);

impl OperationSlots {
    /// `permits` operations at once on the calling worker.
    pub fn new(permits: usize) -> Self {
        Self(Arc::new(Semaphore::new(permits.max(1))))
    }

    /// Waits for a permit of the worker serving `http`; `None` when the app registered none.
    async fn acquire(http: &HttpRequest) -> Option<OwnedSemaphorePermit> {
        let slots = http.app_data::<web::Data<OperationSlots>>()?;
        slots.0.clone().acquire_owned().await.ok()
    }
}

/// The routes; GraphiQL only when `graphiql` is on.
pub fn routes(graphiql: bool) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::resource("/graphql")
                .route(web::post().to(graphql::post))
                .route(
                    web::get()
                        .guard(guard::Header("upgrade", "websocket"))
                        .to(live::graphql_ws),
                )
                .route(web::get().to(graphql::get))
                .default_service(web::to(|| async {
                    HttpResponse::MethodNotAllowed()
                        .insert_header(("Allow", "GET, POST"))
                        .finish()
                })),
        )
        .route("/export/changes.csv", web::get().to(export::changes_csv))
        .route("/export/releases.csv", web::get().to(export::releases_csv))
        .route("/export/services.csv", web::get().to(export::services_csv))
        .route(
            "/calendar/changes.ics",
            web::get().to(calendar::changes_ics),
        )
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
        if graphiql {
            cfg.route("/", web::get().to(graphiql::page))
                .route("/graphiql/{file}", web::get().to(graphiql::asset));
        }
    }
}

/// The GraphQL error of `err`: its public message and `extensions` with its code (and, for
/// a caller over its rate, `retryAfter`). Every error the HTTP layer answers itself — over
/// POST, GET, the exports and the WebSocket — is written by this one function.
pub(crate) fn error_json(err: &AppError) -> serde_json::Value {
    let mut extensions = serde_json::json!({ "code": err.code() });
    if let Some(secs) = err.retry_after() {
        extensions["retryAfter"] = secs.into();
    }
    serde_json::json!({ "message": err.public_message(), "extensions": extensions })
}

/// A GraphQL answer carrying only `err`: `{"errors": [error_json(err)]}`.
pub(crate) fn error_body(err: &AppError) -> serde_json::Value {
    serde_json::json!({ "errors": [error_json(err)] })
}

/// The HTTP answer carrying only `err`, with `status` (and `Retry-After` for a caller over
/// its rate).
fn error_response(status: StatusCode, err: AppError) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if let Some(secs) = err.retry_after() {
        response.insert_header((RETRY_AFTER, secs.to_string()));
    }
    response
        .content_type("application/graphql-response+json")
        .json(error_body(&err))
}

/// Authenticates a request and takes `operations` from its caller's rate limit. Refused
/// with `Unauthenticated` (answer 401) for a bad token or for none when anonymous reads are
/// off, `RateLimited` (429) over the rate, `LimitExceeded` for more operations than a burst,
/// anything else when the token could not be checked (the database is away).
async fn admit(state: &AppState, http: &HttpRequest, operations: u32) -> Result<Viewer, AppError> {
    let header = http
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let credential = auth::authenticate(&state.db, header, &state.token_use).await?;
    if credential.viewer.person_id.is_none() && !state.anonymous_read {
        return Err(AppError::Unauthenticated(
            "a bearer token is required (Authorization: Bearer <token>)".into(),
        ));
    }
    let caller = rate::Caller::of(credential.token_id, http);
    if let Err(err) = state.rate.admit(caller, operations) {
        state.metrics.rate_limited("http");
        return Err(err);
    }
    Ok(credential.viewer)
}

/// The HTTP status of a refused admission; `None` for a failure to check (the database).
fn admission_status(err: &AppError) -> Option<StatusCode> {
    match err {
        AppError::Unauthenticated(_) => Some(StatusCode::UNAUTHORIZED),
        AppError::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
        AppError::LimitExceeded(_) => Some(StatusCode::BAD_REQUEST),
        _ => None,
    }
}

/// The refusal of a request whose caller was not admitted (not GraphQL: exports).
fn refused(err: AppError) -> HttpResponse {
    let status = admission_status(&err).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    error_response(status, err)
}

/// The process is alive.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready when the database answers and its schema is the one this binary expects.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let unavailable = |why: &str| {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(why.to_owned())
    };
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: the database does not answer");
        return unavailable("database unavailable");
    }
    match crate::db::pending_migrations(&state.db).await {
        Ok(0) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Ok(n) => unavailable(&format!("{n} migrations pending")),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: migrations could not be read");
            unavailable("database unavailable")
        }
    }
}

/// Prometheus (OpenMetrics) text format.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ))
        .body(state.metrics.render())
}
