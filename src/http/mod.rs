//! HTTP wiring, the one place that knows about actix-web: `/graphql` (POST and GET),
//! GraphiQL with its assets served offline, health, readiness and metrics.

mod export;
mod graphiql;
mod live;

pub use live::LiveSettings;

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use async_graphql::parser::types::OperationType;
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::Semaphore;

use crate::auth;
use crate::db::StatementCounter;
use crate::domain::EventBus;
use crate::error::AppError;
use crate::graphql::AppSchema;
use crate::graphql::loaders::new_loader;
use crate::graphql::viewer::{RolesOnce, Viewer};

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
    /// Whether requests without a token may read.
    pub anonymous_read: bool,
    /// Permits to execute an operation: a server on two cores gains nothing from building
    /// thirty answers at once, and each one in flight holds its whole response in memory.
    pub operations: Arc<Semaphore>,
    /// Committed events, for the subscription gauges.
    pub events: EventBus,
    /// WebSocket keep-alive, back-pressure and shutdown.
    pub live: LiveSettings,
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/graphql")
            .route(web::post().to(graphql_post))
            .route(
                web::get()
                    .guard(guard::Header("upgrade", "websocket"))
                    .to(live::graphql_ws),
            )
            .route(web::get().to(graphql_get)),
    )
    .route("/export/changes.csv", web::get().to(export::changes_csv))
    .route("/export/releases.csv", web::get().to(export::releases_csv))
    .route("/", web::get().to(graphiql::page))
    .route("/graphiql/{file}", web::get().to(graphiql::asset))
    .route("/healthz", web::get().to(healthz))
    .route("/readyz", web::get().to(readyz))
    .route("/metrics", web::get().to(metrics));
}

/// A GraphQL response carrying only an error, with its code.
fn error_response(status: StatusCode, err: AppError) -> HttpResponse {
    let body = serde_json::json!({
        "errors": [{ "message": err.public_message(), "extensions": { "code": err.code() } }]
    });
    HttpResponse::build(status)
        .content_type("application/graphql-response+json")
        .json(body)
}

/// The caller of a request, or the response refusing it: a bad token is 401, and so is no
/// token when anonymous reads are off.
async fn viewer_of(state: &AppState, http: &HttpRequest) -> Result<Viewer, HttpResponse> {
    let header = http
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let viewer = match auth::authenticate(&state.db, header).await {
        Ok(v) => v,
        Err(err @ AppError::Unauthenticated(_)) => {
            return Err(error_response(StatusCode::UNAUTHORIZED, err));
        }
        Err(err) => return Err(error_response(StatusCode::SERVICE_UNAVAILABLE, err)),
    };
    if viewer.person_id.is_none() && !state.anonymous_read {
        return Err(error_response(
            StatusCode::UNAUTHORIZED,
            AppError::Unauthenticated(
                "a bearer token is required (Authorization: Bearer <token>)".into(),
            ),
        ));
    }
    Ok(viewer)
}

async fn execute(
    state: &AppState,
    http: &HttpRequest,
    request: async_graphql::Request,
) -> HttpResponse {
    let viewer = match viewer_of(state, http).await {
        Ok(v) => v,
        Err(response) => return response,
    };
    let Ok(_permit) = state.operations.acquire().await else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal("the server is shutting down".into()),
        );
    };
    let request = request
        .data(new_loader(state.db.clone()))
        .data(viewer)
        .data(RolesOnce::default());
    let mut response = state.schema.execute(request).await;
    for err in &mut response.errors {
        classify(err);
    }
    let response: GraphQLResponse = response.into();
    actix_web::Responder::respond_to(response, http).map_into_boxed_body()
}

/// Errors raised by the engine itself (parse, validation, limits) carry no code; give them
/// the stable one a client can act on.
fn classify(err: &mut async_graphql::ServerError) {
    let has_code = err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let message = err.message.to_lowercase();
    let code = if message.contains("too deep")
        || message.contains("too complex")
        || message.contains("too many")
    {
        "LIMIT_EXCEEDED"
    } else {
        "BAD_USER_INPUT"
    };
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

async fn graphql_post(
    state: web::Data<AppState>,
    http: HttpRequest,
    request: GraphQLRequest,
) -> HttpResponse {
    execute(&state, &http, request.into_inner()).await
}

/// GraphQL over HTTP GET: `?query=…&variables=…&operationName=…`. Reads only: a mutation
/// over GET is refused with 405, as the GraphQL-over-HTTP spec asks.
async fn graphql_get(state: web::Data<AppState>, http: HttpRequest) -> HttpResponse {
    let request = match async_graphql::http::parse_query_string(http.query_string()) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                AppError::bad_input(format!("invalid GET request: {e}")),
            );
        }
    };
    if let Ok(doc) = async_graphql::parser::parse_query(&request.query) {
        let mutation = doc.operations.iter().any(|(name, op)| {
            op.node.ty == OperationType::Mutation
                && request
                    .operation_name
                    .as_deref()
                    .is_none_or(|wanted| name.is_none_or(|n| n.as_str() == wanted))
        });
        if mutation {
            return error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                AppError::bad_input("mutations must be sent with POST"),
            )
            .customize()
            .insert_header(("Allow", "POST"))
            .respond_to(&http)
            .map_into_boxed_body();
        }
    }
    execute(&state, &http, request).await
}

/// Subscriptions over WebSocket (`graphql-transport-ws`, and the legacy `graphql-ws`).
/// The token travels in `connection_init`'s payload (`{"Authorization": "Bearer …"}`)
/// with the same rules as over HTTP.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Ready when the database answers.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}

/// Prometheus text format.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let events = state.events.counters();
    let body = format!(
        "# HELP portfolio_sql_statements_total SQL statements executed since start-up.\n\
         # TYPE portfolio_sql_statements_total counter\n\
         portfolio_sql_statements_total {}\n\
         # HELP portfolio_websocket_connections Open WebSocket connections.\n\
         # TYPE portfolio_websocket_connections gauge\n\
         portfolio_websocket_connections {}\n\
         # HELP portfolio_subscriptions Active subscriptions.\n\
         # TYPE portfolio_subscriptions gauge\n\
         portfolio_subscriptions {}\n\
         # HELP portfolio_events_published_total Committed events published to this instance's subscribers.\n\
         # TYPE portfolio_events_published_total counter\n\
         portfolio_events_published_total {}\n\
         # HELP portfolio_events_skipped_total Events skipped by subscribers that fell behind.\n\
         # TYPE portfolio_events_skipped_total counter\n\
         portfolio_events_skipped_total {}\n\
         # HELP portfolio_event_listener_reconnects_total Reconnections of the PostgreSQL event listener.\n\
         # TYPE portfolio_event_listener_reconnects_total counter\n\
         portfolio_event_listener_reconnects_total {}\n",
        state.statements.get(),
        state.live.connections.load(Relaxed),
        state.events.subscribers(),
        events.published.load(Relaxed),
        events.skipped.load(Relaxed),
        events.reconnects.load(Relaxed),
    );
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4"))
        .body(body)
}

use actix_web::Responder as _;
