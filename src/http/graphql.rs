//! `/graphql` over HTTP, by the GraphQL-over-HTTP specification (checked with the
//! `graphql-http` audit, see `conformance/`): content negotiation between
//! `application/graphql-response+json` and `application/json`, the status codes each one
//! asks for, strict request parsing, GET for queries only, batches, limits and timing.
//!
//! async-graphql's stock actix responder answers everything with 200 and one media type,
//! which the specification's negotiation and status rules do not allow; hence this handler.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;
use sha2::{Digest, Sha256};

use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Variables};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::{AppState, OperationSlots, admission_status, admit, error_response};
use crate::error::AppError;
use crate::graphql::loaders::new_loader;
use crate::graphql::viewer::RolesOnce;
use crate::graphql::viewer::Viewer;

/// Limits and thresholds of GraphQL requests over HTTP.
#[derive(Clone, Debug)]
pub struct RequestLimits {
    /// Largest request body, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Most operations in one batched request.
    pub max_batch: usize,
    /// Most aliased fields in one document, fragments expanded.
    pub max_aliases: usize,
    /// Longest an operation may execute.
    pub timeout: Duration,
    /// Requests slower than this are logged with their operation name.
    pub slow: Duration,
    /// How long a loader waits for more keys before running a batch.
    pub loader_delay: Duration,
}

/// Automatic persisted queries (Apollo's `extensions.persistedQuery` protocol): documents
/// by SHA-256, per instance, least recently used dropped first.
///
/// Done here rather than with async-graphql's extension: with any extension registered, the
/// engine resolves every field through its slower instrumented path.
pub struct PersistedQueries(Mutex<LruCache<String, String>>);

impl PersistedQueries {
    /// A cache of `capacity` documents.
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        Self(Mutex::new(LruCache::new(capacity)))
    }

    /// Completes a request that names a persisted query: fills in the document from its
    /// hash, or remembers the document under it. `Err` is the error to answer.
    fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), (String, &'static str)> {
        let Some(ext) = request.extensions.remove("persistedQuery") else {
            return Ok(());
        };
        let json = ext.into_json().unwrap_or_default();
        let (Some(1), Some(hash)) = (json["version"].as_i64(), json["sha256Hash"].as_str()) else {
            return Err((
                "persistedQuery needs version 1 and a sha256Hash".into(),
                "BAD_USER_INPUT",
            ));
        };
        let hash = hash.to_ascii_lowercase();
        let Ok(mut cache) = self.0.lock() else {
            return Err(("PersistedQueryNotFound".into(), "PERSISTED_QUERY_NOT_FOUND"));
        };
        if request.query.is_empty() {
            match cache.get(&hash) {
                Some(query) => {
                    request.query = query.clone();
                    Ok(())
                }
                // The message and code Apollo clients look for to send the document once.
                None => Err(("PersistedQueryNotFound".into(), "PERSISTED_QUERY_NOT_FOUND")),
            }
        } else {
            let actual = format!("{:x}", Sha256::digest(request.query.as_bytes()));
            if actual != hash {
                return Err((
                    "persistedQuery.sha256Hash is not the SHA-256 of the query".into(),
                    "BAD_USER_INPUT",
                ));
            }
            cache.put(hash, request.query.clone());
            Ok(())
        }
    }
}

/// The media type of the answer, chosen from the request's `Accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: request errors are 4xx, without `data`.
    GraphqlResponse,
    /// `application/json`, the legacy type: every GraphQL answer is 200.
    Json,
}

impl Media {
    /// The status of a request that failed before execution: 400 under the specification's
    /// own type, 200 under the legacy one.
    fn request_error_status(self) -> StatusCode {
        match self {
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
            Self::Json => StatusCode::OK,
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }
}

/// The preferred media type the client accepts; no `Accept` (or `*/*`) means
/// `application/json`, as the specification says for legacy clients. `None`: nothing we speak.
fn negotiate(http: &HttpRequest) -> Option<Media> {
    let Some(accept) = http.headers().get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let mut best: Option<(f32, Media)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let found = match media.as_str() {
            "application/graphql-response+json" => Media::GraphqlResponse,
            "application/json" | "application/*" | "*/*" => Media::Json,
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        // On equal quality the specification's own type wins.
        let better = best.is_none_or(|(q, m)| {
            quality > q || (quality == q && found == Media::GraphqlResponse && m == Media::Json)
        });
        if better {
            best = Some((quality, found));
        }
    }
    best.map(|(_, m)| m)
}

fn not_acceptable() -> HttpResponse {
    error_response(
        StatusCode::NOT_ACCEPTABLE,
        AppError::bad_input(
            "Accept must allow application/graphql-response+json or application/json",
        ),
    )
}

/// A refusal before any GraphQL execution (bad HTTP, bad parameters): 4xx on both types.
fn refuse(status: StatusCode, media: Media, err: AppError) -> HttpResponse {
    let mut response = error_response(status, err);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, media.content_type());
    response
}

/// `POST /graphql`: an `application/json` body holding one request or a batch of them.
pub async fn post(
    state: web::Data<AppState>,
    http: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let _in_flight = state.metrics.in_flight();
    let Some(media) = negotiate(&http) else {
        return not_acceptable();
    };
    let content_type = http
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset_ok = parts
        .filter_map(|p| {
            p.trim()
                .to_ascii_lowercase()
                .strip_prefix("charset=")
                .map(str::to_owned)
        })
        .all(|c| c.trim_matches('"') == "utf-8");
    if essence != "application/json" || !charset_ok {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            AppError::bad_input("POST bodies must be application/json (UTF-8)"),
        );
    }
    let limit = state.limits.max_body_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return refuse(
                StatusCode::BAD_REQUEST,
                media,
                AppError::bad_input("the request body could not be read"),
            );
        };
        if body.len() + chunk.len() > limit {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                AppError::LimitExceeded(format!("the request body is larger than {limit} bytes")),
            );
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            media,
            AppError::bad_input("the request body is empty; send {\"query\": \"…\"}"),
        );
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                media,
                AppError::bad_input(format!("the request body is not valid JSON: {e}")),
            );
        }
    };
    match parsed {
        Value::Array(items) => {
            if items.is_empty() || items.len() > state.limits.max_batch {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    media,
                    AppError::LimitExceeded(format!(
                        "a batch holds 1 to {} operations, not {}",
                        state.limits.max_batch,
                        items.len()
                    )),
                );
            }
            let mut requests = Vec::with_capacity(items.len());
            for item in items {
                match request_of(item) {
                    Ok(r) => requests.push(r),
                    Err(e) => return refuse(StatusCode::BAD_REQUEST, media, e),
                }
            }
            execute_batch(&state, &http, media, requests).await
        }
        other => match request_of(other) {
            Ok(request) => execute(&state, &http, media, request, false, None).await,
            Err(e) => refuse(StatusCode::BAD_REQUEST, media, e),
        },
    }
}

/// `GET /graphql?query=…&variables=…&operationName=…&extensions=…`: queries only.
pub async fn get(state: web::Data<AppState>, http: HttpRequest) -> HttpResponse {
    let _in_flight = state.metrics.in_flight();
    let Some(media) = negotiate(&http) else {
        return not_acceptable();
    };
    let params: Vec<(String, String)> =
        match web::Query::<Vec<(String, String)>>::from_query(http.query_string()) {
            Ok(p) => p.into_inner(),
            Err(e) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    media,
                    AppError::bad_input(format!("invalid query string: {e}")),
                );
            }
        };
    let mut object = Map::new();
    for (key, value) in params {
        let value = match key.as_str() {
            "variables" | "extensions" => match serde_json::from_str::<Value>(&value) {
                Ok(v) => v,
                Err(e) => {
                    return refuse(
                        StatusCode::BAD_REQUEST,
                        media,
                        AppError::bad_input(format!("`{key}` is not valid JSON: {e}")),
                    );
                }
            },
            _ => Value::String(value),
        };
        object.insert(key, value);
    }
    match request_of(Value::Object(object)) {
        Ok(request) => execute(&state, &http, media, request, true, None).await,
        Err(e) => refuse(StatusCode::BAD_REQUEST, media, e),
    }
}

/// One GraphQL request from its JSON form, every parameter checked for its type.
fn request_of(value: Value) -> Result<async_graphql::Request, AppError> {
    let Value::Object(mut o) = value else {
        return Err(AppError::bad_input(
            "a request is a JSON object: {\"query\": \"…\", \"variables\": {…}}",
        ));
    };
    let extensions = match o.remove("extensions") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(AppError::bad_input("`extensions` must be an object")),
    };
    let query = match o.remove("query") {
        Some(Value::String(q)) => q,
        // Automatic persisted queries send only the hash once the server knows it.
        None | Some(Value::Null) if extensions.contains_key("persistedQuery") => String::new(),
        None | Some(Value::Null) => {
            return Err(AppError::bad_input("the `query` parameter is missing"));
        }
        Some(_) => return Err(AppError::bad_input("`query` must be a string")),
    };
    let mut request = async_graphql::Request::new(query);
    match o.remove("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name),
        Some(_) => return Err(AppError::bad_input("`operationName` must be a string")),
    }
    match o.remove("variables") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => request = request.variables(Variables::from_json(v)),
        Some(_) => return Err(AppError::bad_input("`variables` must be an object")),
    }
    for (key, value) in extensions {
        let value = async_graphql::Value::from_json(value)
            .map_err(|e| AppError::bad_input(format!("extension `{key}`: {e}")))?;
        request.extensions.insert(key, value);
    }
    Ok(request)
}

/// What the handler learns from the document before executing it.
struct Facts {
    /// The operation's name, for metrics and the slow-request log.
    name: Option<String>,
    mutation: bool,
    aliases: usize,
}

/// Parses the document (the engine reuses the parse) and reads its facts; `None` when it is
/// empty (a persisted query's hash) or does not parse (the engine reports that).
fn facts(request: &mut async_graphql::Request) -> Option<Facts> {
    if request.query.is_empty() {
        return None;
    }
    let wanted = request.operation_name.clone();
    let doc = request.parsed_query().ok()?;
    let chosen = match &doc.operations {
        DocumentOperations::Single(op) => Some((None, op)),
        DocumentOperations::Multiple(ops) => match &wanted {
            Some(w) => ops
                .get_key_value(&Name::new(w))
                .map(|(n, op)| (Some(n), op)),
            None if ops.len() == 1 => ops.iter().next().map(|(n, op)| (Some(n), op)),
            None => None,
        },
    };
    Some(Facts {
        name: chosen
            .and_then(|(n, _)| n.map(|n| n.to_string()))
            .or(wanted),
        mutation: chosen.is_some_and(|(_, op)| op.node.ty == OperationType::Mutation),
        aliases: aliases(doc),
    })
}

/// Aliased fields in the document, each fragment counted as often as it is spread.
fn aliases(doc: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet, doc: &ExecutableDocument, depth: usize) -> usize {
        // Fragment cycles are invalid (validation refuses them later); stop early here.
        if depth > 64 {
            return 0;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some())
                        + count(&f.node.selection_set.node, doc, depth + 1)
                }
                Selection::InlineFragment(f) => count(&f.node.selection_set.node, doc, depth + 1),
                Selection::FragmentSpread(s) => doc
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .map_or(0, |f| count(&f.node.selection_set.node, doc, depth + 1)),
            })
            .fold(0usize, usize::saturating_add)
    }
    doc.operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node, doc, 0))
        .fold(0usize, usize::saturating_add)
}

/// The answer to a request whose caller was not admitted.
fn not_admitted(state: &AppState, media: Media, name: Option<&str>, err: AppError) -> HttpResponse {
    match admission_status(&err) {
        Some(StatusCode::BAD_REQUEST) => refuse(media.request_error_status(), media, err),
        Some(status) => refuse(status, media, err),
        // The database is away: a GraphQL error (INTERNAL, generic message), not an HTTP one.
        None => {
            state.metrics.observe(name, err.code(), Duration::ZERO);
            refuse(StatusCode::OK, media, err)
        }
    }
}

/// Executes one request and answers it in `media`; `admitted` is its caller when the
/// request was admitted already (a batch is admitted as a whole).
async fn execute(
    state: &AppState,
    http: &HttpRequest,
    media: Media,
    mut request: async_graphql::Request,
    over_get: bool,
    admitted: Option<Viewer>,
) -> HttpResponse {
    if let Err((message, code)) = state.persisted.resolve(&mut request) {
        state.metrics.observe(None, code, Duration::ZERO);
        let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
        return HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, media.content_type()))
            .body(body.to_string());
    }
    let facts = facts(&mut request);
    let name = facts.as_ref().and_then(|f| f.name.clone());
    if over_get && facts.as_ref().is_some_and(|f| f.mutation) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            AppError::bad_input("mutations must be sent with POST"),
        );
        response.headers_mut().insert(
            actix_web::http::header::ALLOW,
            HeaderValue::from_static("POST"),
        );
        return response;
    }
    if let Some(f) = &facts
        && f.aliases > state.limits.max_aliases
    {
        let err = AppError::LimitExceeded(format!(
            "the document has {} aliased fields, more than the limit of {}",
            f.aliases, state.limits.max_aliases
        ));
        let status = media.request_error_status();
        state
            .metrics
            .observe(name.as_deref(), "LIMIT_EXCEEDED", Duration::ZERO);
        return refuse(status, media, err);
    }
    let viewer = match admitted {
        Some(viewer) => viewer,
        None => match admit(state, http, 1).await {
            Ok(v) => v,
            Err(err) => return not_admitted(state, media, name.as_deref(), err),
        },
    };
    let Some(_permit) = OperationSlots::acquire(http).await else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            media,
            AppError::Internal("the server is shutting down".into()),
        );
    };
    let request = request
        .data(new_loader(state.db.clone(), state.limits.loader_delay))
        .data(viewer)
        .data(RolesOnce::default());
    let started = Instant::now();
    let executed = tokio::time::timeout(state.limits.timeout, state.schema.execute(request)).await;
    let elapsed = started.elapsed();
    let (status, body, outcome) = match executed {
        Ok(response) => answer(media, response),
        Err(_) => {
            // Execution had started: an execution error, with `data` null, not a 4xx.
            let err = AppError::LimitExceeded(format!(
                "the operation took longer than {:?} and was stopped",
                state.limits.timeout
            ));
            let body = json!({
                "data": null,
                "errors": [{ "message": err.public_message(), "extensions": { "code": err.code() } }]
            });
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
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, media.content_type()))
        .body(body)
}

/// Executes a batch: one answer per operation, in order, always 200.
async fn execute_batch(
    state: &AppState,
    http: &HttpRequest,
    media: Media,
    requests: Vec<async_graphql::Request>,
) -> HttpResponse {
    // The whole batch draws on the caller's rate at once: it runs entirely or not at all.
    let operations = u32::try_from(requests.len()).unwrap_or(u32::MAX);
    let viewer = match admit(state, http, operations).await {
        Ok(v) => v,
        Err(err) => return not_admitted(state, media, None, err),
    };
    let mut answers = Vec::with_capacity(requests.len());
    for request in requests {
        let response = Box::pin(execute(state, http, media, request, false, Some(viewer))).await;
        let status = response.status();
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap_or_default();
        // A refusal of the whole request (the server shutting down) refuses the batch.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return HttpResponse::build(status)
                .insert_header((CONTENT_TYPE, media.content_type()))
                .body(bytes);
        }
        answers.push(serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null));
    }
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, media.content_type()))
        .body(Value::Array(answers).to_string())
}

/// The status, body and outcome (`ok` or the first error's code) of an executed request.
///
/// A request error (the document did not parse or validate, a variable did not coerce, a
/// limit was hit: no error has a path and there is no data) is 400 without `data` under
/// `application/graphql-response+json`; under `application/json` every answer is 200.
fn answer(media: Media, mut response: async_graphql::Response) -> (StatusCode, String, String) {
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
        let body = json!({ "errors": response.errors });
        return (status, body.to_string(), outcome);
    }
    let body = serde_json::to_string(&response).unwrap_or_else(|_| {
        json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] })
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
