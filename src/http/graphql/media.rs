//! Content negotiation: `application/graphql-response+json` or the legacy
//! `application/json`, and the status codes each one asks for.

use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::error::AppError;
use crate::http::error_response;

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
    pub(super) fn request_error_status(self) -> StatusCode {
        match self {
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
            Self::Json => StatusCode::OK,
        }
    }

    pub(super) fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }
}

/// The preferred media type the client accepts; no `Accept` (or `*/*`) means
/// `application/json`, as the specification says for legacy clients. `None`: nothing we speak.
pub(super) fn negotiate(http: &HttpRequest) -> Option<Media> {
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

pub(super) fn not_acceptable() -> HttpResponse {
    error_response(
        StatusCode::NOT_ACCEPTABLE,
        AppError::bad_input(
            "Accept must allow application/graphql-response+json or application/json",
        ),
    )
}

/// A refusal before any GraphQL execution (bad HTTP, bad parameters): 4xx on both types.
pub(super) fn refuse(status: StatusCode, media: Media, err: AppError) -> HttpResponse {
    let mut response = error_response(status, err);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, media.content_type());
    response
}
