//! `GET /export/changes.csv`, `/export/releases.csv` and `/export/services.csv`: the rows
//! matching the same filters as `Query.changes` / `Query.releases` / `Query.services`,
//! given as query parameters
//! (`status=AUTHORIZED,SCHEDULED&risk=HIGH&serviceId=…`), streamed as RFC 4180 CSV with the
//! same authentication as `/graphql`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{InputType, Name, Value};

use entity::{change, release, service};

use super::csv::{Export, Exported};
use super::{AppState, admit, error_response, refused};
use crate::error::AppError;
use crate::graphql::inputs::{ChangeFilter, ReleaseFilter, ServiceFilter};

/// Parameters that take a comma-separated list of enum values.
const LISTS: [&str; 6] = [
    "status",
    "type",
    "risk",
    "category",
    "lifecycle",
    "criticality",
];
/// Parameters that take a comma-separated list of texts.
const TEXT_LISTS: [&str; 1] = ["scope"];
/// Every parameter `ServiceFilter` knows.
const SERVICE_PARAMS: [&str; 5] = ["lifecycle", "criticality", "ownerId", "scope", "search"];
/// Every parameter `ReleaseFilter` knows.
const RELEASE_PARAMS: [&str; 7] = [
    "status",
    "type",
    "projectId",
    "serviceId",
    "plannedFrom",
    "plannedTo",
    "search",
];
/// Every parameter `ChangeFilter` knows.
pub(super) const CHANGE_PARAMS: [&str; 13] = [
    "status",
    "type",
    "risk",
    "category",
    "serviceId",
    "projectId",
    "modelId",
    "requestedById",
    "plannedFrom",
    "plannedTo",
    "search",
    "releaseId",
    "updatedSince",
];

/// Builds the GraphQL filter input from query parameters, so the export validates and
/// means exactly what the GraphQL filter does.
pub(super) fn filter<T: InputType>(
    params: &[(String, String)],
    known: &[&str],
) -> Result<T, AppError> {
    let mut fields = async_graphql::indexmap::IndexMap::new();
    for (key, value) in params {
        if !known.contains(&key.as_str()) {
            return Err(AppError::bad_input(format!(
                "unknown parameter `{key}`; the filters are {}",
                known.join(", ")
            )));
        }
        let items = || value.split(',').map(str::trim).filter(|s| !s.is_empty());
        let v = if LISTS.contains(&key.as_str()) {
            Value::List(items().map(|s| Value::Enum(Name::new(s))).collect())
        } else if TEXT_LISTS.contains(&key.as_str()) {
            Value::List(items().map(|s| Value::String(s.to_owned())).collect())
        } else {
            Value::String(value.clone())
        };
        fields.insert(Name::new(key), v);
    }
    T::parse(Some(Value::Object(fields))).map_err(|e| {
        AppError::bad_input(format!(
            "invalid filter: {}",
            e.into_server_error(Default::default()).message
        ))
    })
}

/// Streams `export`'s chunks as a CSV download named `file`.
fn csv_response<T: Exported + 'static>(file: &'static str, export: Export<T>) -> HttpResponse {
    let body = futures_util::stream::unfold((export, false), move |(mut export, failed)| {
        async move {
            if failed {
                return None;
            }
            let result = export.next_chunk().await;
            match result {
                Ok(Some(chunk)) => Some((Ok(web::Bytes::from(chunk)), (export, false))),
                Ok(None) => None,
                Err(e) => {
                    // Headers are gone by now: log, and end the stream with an error so the
                    // client sees an incomplete transfer rather than a silently short file.
                    tracing::error!(error = %e, file, "export failed");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        (export, true),
                    ))
                }
            }
        }
    });
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8; header=present"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .streaming(body)
}

/// Streams the rows of `T` matching the filter the query parameters give (each one of
/// `known`), parsed as GraphQL input `I` and resolved by `resolve`, as `file`.
async fn export<T, I>(
    state: &AppState,
    http: &HttpRequest,
    params: &[(String, String)],
    (file, known): (&'static str, &[&str]),
    resolve: impl FnOnce(I) -> Result<T::Filter, AppError>,
) -> HttpResponse
where
    T: Exported + 'static,
    I: InputType,
{
    if let Err(err) = admit(state, http, 1).await {
        return refused(err);
    }
    match filter::<I>(params, known).and_then(resolve) {
        Ok(f) => csv_response(file, Export::<T>::new(state.db.clone(), f)),
        Err(e) => error_response(StatusCode::BAD_REQUEST, e),
    }
}

pub async fn changes_csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    let file = ("changes.csv", &CHANGE_PARAMS[..]);
    export::<change::Model, ChangeFilter>(&state, &http, &params, file, |f| f.resolve(None)).await
}

pub async fn releases_csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    let file = ("releases.csv", &RELEASE_PARAMS[..]);
    export::<release::Model, ReleaseFilter>(&state, &http, &params, file, ReleaseFilter::resolve)
        .await
}

pub async fn services_csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    let file = ("services.csv", &SERVICE_PARAMS[..]);
    export::<service::Model, ServiceFilter>(&state, &http, &params, file, ServiceFilter::resolve)
        .await
}
