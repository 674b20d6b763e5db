//! Executing operations: admission (the caller, its rate), the document's limits, a permit,
//! the engine with a time limit, and the answer's status — one operation or a batch.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use super::media::{Media, refuse};
use super::request::facts;
use crate::error::AppError;
use crate::graphql::loaders::new_loader;
use crate::graphql::viewer::{RolesOnce, Viewer};
use crate::http::{AppState, OperationSlots, admission_status, admit, error_body};
use crate::store::Db;

/// How one operation was answered.
enum Reply {
    /// Refused before execution, with this status; the error is the whole answer.
    Refused(StatusCode, AppError),
    /// Executed (or refused by the engine): the status and the JSON text of the answer.
    Executed(StatusCode, String),
}

impl Reply {
    /// The reply as the whole HTTP answer in `media`.
    fn into_response(self, media: Media) -> HttpResponse {
        match self {
            Self::Refused(status, err) => {
                let get_mutation = status == StatusCode::METHOD_NOT_ALLOWED;
                let mut response = refuse(status, media, err);
                if get_mutation {
                    response
                        .headers_mut()
                        .insert(ALLOW, HeaderValue::from_static("POST"));
                }
                response
            }
            Self::Executed(status, body) => HttpResponse::build(status)
                .insert_header((CONTENT_TYPE, media.content_type()))
                .body(body),
        }
    }

    /// The reply as one element of a batch's answer.
    fn into_json_text(self) -> String {
        match self {
            Self::Refused(_, err) => error_body(&err).to_string(),
            Self::Executed(_, body) => body,
        }
    }
}

/// The refusal of a request whose caller was not admitted.
fn not_admitted(state: &AppState, media: Media, name: Option<&str>, err: AppError) -> Reply {
    match admission_status(&err) {
        Some(StatusCode::BAD_REQUEST) => Reply::Refused(media.request_error_status(), err),
        Some(status) => Reply::Refused(status, err),
        // The database is away: a GraphQL error (INTERNAL, generic message), not an HTTP one.
        None => {
            state.metrics.observe(name, err.code(), Duration::ZERO);
            Reply::Refused(StatusCode::OK, err)
        }
    }
}

/// Executes one request and answers it in `media`.
pub(super) async fn execute(
    state: &AppState,
    http: &HttpRequest,
    media: Media,
    request: async_graphql::Request,
    over_get: bool,
) -> HttpResponse {
    run(state, http, media, request, over_get, None)
        .await
        .into_response(media)
}

/// Executes a batch: one answer per operation, in order, always 200. The whole batch draws
/// on the caller's rate at once, so it runs entirely or not at all.
pub(super) async fn execute_batch(
    state: &AppState,
    http: &HttpRequest,
    media: Media,
    requests: Vec<async_graphql::Request>,
) -> HttpResponse {
    let operations = u32::try_from(requests.len()).unwrap_or(u32::MAX);
    let viewer = match admit(state, http, operations).await {
        Ok(v) => v,
        Err(err) => return not_admitted(state, media, None, err).into_response(media),
    };
    let mut body = String::from("[");
    for (i, request) in requests.into_iter().enumerate() {
        let reply = run(state, http, media, request, false, Some(viewer)).await;
        // The server shutting down refuses the whole batch.
        if let Reply::Refused(StatusCode::SERVICE_UNAVAILABLE, _) = reply {
            return reply.into_response(media);
        }
        if i > 0 {
            body.push(',');
        }
        body.push_str(&reply.into_json_text());
    }
    body.push(']');
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, media.content_type()))
        .body(body)
}

/// Runs one operation; `admitted` is its caller when the request was admitted already (a
/// batch is admitted as a whole).
async fn run(
    state: &AppState,
    http: &HttpRequest,
    media: Media,
    mut request: async_graphql::Request,
    over_get: bool,
    admitted: Option<Viewer>,
) -> Reply {
    if let Err(err) = state.persisted.resolve(&mut request) {
        state.metrics.observe(None, err.code(), Duration::ZERO);
        // Apollo's protocol: the answer to an unknown hash is a 200 the client acts on.
        return Reply::Refused(StatusCode::OK, err);
    }
    let facts = facts(&mut request);
    let name = facts.as_ref().and_then(|f| f.name.clone());
    if over_get && facts.as_ref().is_some_and(|f| f.mutation) {
        return Reply::Refused(
            StatusCode::METHOD_NOT_ALLOWED,
            AppError::bad_input("mutations must be sent with POST"),
        );
    }
    if let Some(f) = &facts
        && f.aliases > state.limits.max_aliases
    {
        let err = AppError::LimitExceeded(format!(
            "the document has {} aliased fields, more than the limit of {}",
            f.aliases, state.limits.max_aliases
        ));
        state
            .metrics
            .observe(name.as_deref(), err.code(), Duration::ZERO);
        return Reply::Refused(media.request_error_status(), err);
    }
    let dry_run = match dry_run(http) {
        Ok(d) => d,
        Err(err) => return Reply::Refused(media.request_error_status(), err),
    };
    let viewer = match admitted {
        Some(viewer) => viewer,
        None => match admit(state, http, 1).await {
            Ok(v) => v,
            Err(err) => return not_admitted(state, media, name.as_deref(), err),
        },
    };
    let Some(_permit) = OperationSlots::acquire(http).await else {
        return Reply::Refused(
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal("the server is shutting down".into()),
        );
    };
    // A dry run of a mutation: the whole operation, its writes and the reads of its
    // answer, in one transaction rolled back at the end. (A query has nothing to undo.)
    let dry_run = match dry_run && facts.as_ref().is_some_and(|f| f.mutation) {
        true => match state.governance.dry_run().await {
            Ok(session) => Some(session),
            Err(err) => return Reply::Refused(StatusCode::OK, err),
        },
        false => None,
    };
    let mut request = request;
    let db = match &dry_run {
        // Query data comes before schema data: these replace the pool and the use cases.
        Some(session) => {
            request = request
                .data(session.db().clone())
                .data(session.governance().clone());
            session.db().clone()
        }
        None => Db::Pool(state.db.clone()),
    };
    let request = request
        .data(new_loader(db, state.limits.loader_delay))
        .data(viewer)
        .data(RolesOnce::default())
        .data(crate::graphql::types::PolicyOnce::default());
    let started = Instant::now();
    let executed = tokio::time::timeout(state.limits.timeout, state.schema.execute(request)).await;
    let elapsed = started.elapsed();
    let dried = dry_run.is_some();
    if let Some(session) = dry_run
        && let Err(err) = session.end().await
    {
        // The answer stands: the transaction is gone with its connection either way.
        tracing::warn!(error = %err, "a dry run's rollback failed");
    }
    let (status, body, outcome) = match executed {
        Ok(mut response) => {
            if dried {
                response
                    .extensions
                    .insert("dryRun".into(), async_graphql::Value::Boolean(true));
            }
            answer(media, response)
        }
        Err(_) => {
            // Execution had started: an execution error, with `data` null, not a 4xx.
            let err = AppError::LimitExceeded(format!(
                "the operation took longer than {:?} and was stopped",
                state.limits.timeout
            ));
            let mut body = error_body(&err);
            body["data"] = serde_json::Value::Null;
            (StatusCode::OK, body.to_string(), err.code().to_owned())
        }
    };
    state.metrics.observe(name.as_deref(), &outcome, elapsed);
    if elapsed >= state.limits.slow {
        tracing::warn!(
            operation = name.as_deref().unwrap_or("(anonymous)"),
            duration_ms = elapsed.as_millis() as u64,
            outcome = %outcome,
            "slow GraphQL request"
        );
    }
    Reply::Executed(status, body)
}

/// The request header asking for a dry run of a mutation (see `Governance::dry_run`).
pub const DRY_RUN: &str = "dry-run";

/// Whether the request is a dry run: `Dry-Run: true` (or `false`, the default). Any other
/// value is refused rather than guessed, since guessing wrong would write.
fn dry_run(http: &HttpRequest) -> Result<bool, AppError> {
    let Some(value) = http.headers().get(DRY_RUN) else {
        return Ok(false);
    };
    match value
        .to_str()
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Ok("true") => Ok(true),
        Ok("false") => Ok(false),
        _ => Err(AppError::bad_input(
            "the Dry-Run header must be `true` or `false`",
        )),
    }
}

/// The status, body and outcome (`ok` or the first error's code) of an executed request.
///
/// A request error (the document did not parse or validate, a variable did not coerce, a
/// limit was hit: no error has a path and there is no data) is 400 without `data` under
/// `application/graphql-response+json`; under `application/json` every answer is 200.
fn answer(media: Media, mut response: async_graphql::Response) -> (StatusCode, String, String) {
    crate::graphql::coded(&mut response);
    for err in &mut response.errors {
        classify(err);
    }
    let outcome = response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|x| x.get("code"))
        .map_or_else(
            || "ok".to_owned(),
            |c| c.to_string().trim_matches('"').to_owned(),
        );
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    if request_error {
        let status = media.request_error_status();
        let body = serde_json::json!({ "errors": response.errors });
        return (status, body.to_string(), outcome);
    }
    let body = serde_json::to_string(&response).unwrap_or_else(|e| {
        error_body(&AppError::Internal(format!(
            "an answer could not be written: {e}"
        )))
        .to_string()
    });
    (StatusCode::OK, body, outcome)
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
