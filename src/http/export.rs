//! `GET /export/changes.csv` and `/export/releases.csv`: the rows matching the same filters
//! as `Query.changes` / `Query.releases`, given as query parameters
//! (`status=AUTHORIZED,SCHEDULED&risk=HIGH&serviceId=…`), streamed as RFC 4180 CSV with the
//! same authentication as `/graphql`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{InputType, Name, Value};

use super::csv::{ChangeExport, Export, Exported, ReleaseExport};
use super::{AppState, admit, error_response, refused};
use crate::error::AppError;
use crate::graphql::inputs::{ChangeFilter, ReleaseFilter};

/// Parameters that take a comma-separated list of enum values.
const LISTS: [&str; 4] = ["status", "type", "risk", "category"];
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
const CHANGE_PARAMS: [&str; 13] = [
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
fn filter<T: InputType>(params: &[(String, String)], known: &[&str]) -> Result<T, AppError> {
    let mut fields = async_graphql::indexmap::IndexMap::new();
    for (key, value) in params {
        if !known.contains(&key.as_str()) {
            return Err(AppError::bad_input(format!(
                "unknown parameter `{key}`; the filters are {}",
                known.join(", ")
            )));
        }
        let v = if LISTS.contains(&key.as_str()) {
            Value::List(
                value
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::Enum(Name::new(s.trim())))
                    .collect(),
            )
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

pub async fn changes_csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    if let Err(err) = admit(&state, &http, 1).await {
        return refused(err);
    }
    let filter = match filter::<ChangeFilter>(&params, &CHANGE_PARAMS).and_then(|f| f.resolve(None))
    {
        Ok(f) => f,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, e),
    };
    let export = ChangeExport::new(state.db.clone(), filter);
    csv_response("changes.csv", export)
}

pub async fn releases_csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    if let Err(err) = admit(&state, &http, 1).await {
        return refused(err);
    }
    let filter = match filter::<ReleaseFilter>(&params, &RELEASE_PARAMS).and_then(|f| f.resolve()) {
        Ok(f) => f,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, e),
    };
    let export = ReleaseExport::new(state.db.clone(), filter);
    csv_response("releases.csv", export)
}
