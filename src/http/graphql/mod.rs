//! `/graphql` over HTTP, by the GraphQL-over-HTTP specification (checked with the
//! `graphql-http` audit, see `conformance/`): the two handlers, POST and GET, which read the
//! request and hand it on. Content negotiation is in `media`, request parsing in `request`,
//! automatic persisted queries in `persisted`, execution and answers in `execute`.
//!
//! async-graphql's stock actix responder answers everything with 200 and one media type,
//! which the specification's negotiation and status rules do not allow; hence these handlers.

mod execute;
mod media;
mod persisted;
mod request;

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

pub use execute::DRY_RUN;
pub use persisted::PersistedQueries;

use super::AppState;
use crate::error::AppError;
use execute::{execute, execute_batch};
use media::{negotiate, not_acceptable, refuse};
use request::request_of;

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
            Ok(request) => execute(&state, &http, media, request, false).await,
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
        Ok(request) => execute(&state, &http, media, request, true).await,
        Err(e) => refuse(StatusCode::BAD_REQUEST, media, e),
    }
}
