//! `GET /export/changes.csv`: the changes matching the same filters as `Query.changes`,
//! given as query parameters (`status=AUTHORIZED,SCHEDULED&risk=HIGH&serviceId=…`),
//! streamed as RFC 4180 CSV with the same authentication as `/graphql`.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::{InputType, Name, Value};

use super::{AppState, error_response, viewer_of};
use crate::error::AppError;
use crate::graphql::inputs::ChangeFilter;
use crate::store::export::ChangeExport;

/// Parameters that take a comma-separated list of enum values.
const LISTS: [&str; 4] = ["status", "type", "risk", "category"];
/// Every parameter `ChangeFilter` knows.
const KNOWN: [&str; 13] = [
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

/// Builds the GraphQL `ChangeFilter` from query parameters, so the export validates and
/// means exactly what the GraphQL filter does.
fn filter(params: &[(String, String)]) -> Result<ChangeFilter, AppError> {
    let mut fields = async_graphql::indexmap::IndexMap::new();
    for (key, value) in params {
        if !KNOWN.contains(&key.as_str()) {
            return Err(AppError::bad_input(format!(
                "unknown parameter `{key}`; the filters are {}",
                KNOWN.join(", ")
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
    ChangeFilter::parse(Some(Value::Object(fields))).map_err(|e| {
        AppError::bad_input(format!(
            "invalid filter: {}",
            e.into_server_error(Default::default()).message
        ))
    })
}

pub async fn changes_csv(
    state: web::Data<AppState>,
    http: HttpRequest,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    if let Err(response) = viewer_of(&state, &http).await {
        return response;
    }
    let filter = match filter(&params).and_then(|f| f.resolve(None)) {
        Ok(f) => f,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, e),
    };
    let export = ChangeExport::new(state.db.clone(), filter);
    let body = futures_util::stream::unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(web::Bytes::from(chunk)), export)),
            Ok(None) => None,
            Err(e) => {
                // Headers are gone by now: log, and cut the stream short so the client
                // sees an incomplete transfer rather than a silently short file.
                tracing::error!(error = %e, "change export failed");
                Some((
                    Err(actix_web::error::ErrorInternalServerError("export failed")),
                    export,
                ))
            }
        }
    });
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8; header=present"))
        .insert_header((CONTENT_DISPOSITION, "attachment; filename=\"changes.csv\""))
        .streaming(body)
}
