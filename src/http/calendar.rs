//! `GET /calendar/changes.ics`: the change schedule as an iCalendar (RFC 5545) feed for
//! Outlook, Google Calendar and Thunderbird — one event per scheduled or implementing
//! change, one per blackout window and one per release with a planned window — taking the
//! CSV exports' filters and authentication. Calendar clients cannot send headers, so the
//! token may come as `?token=`, READ scope only: such URLs end up in settings and logs.

use std::collections::HashMap;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue,
};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use entity::{ChangeStatus, ReleaseStatus, TokenScope, change, release, service};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::export::{CHANGE_PARAMS, filter};
use super::{AppState, admit, error_response, refused};
use crate::error::{AppError, AppResult};
use crate::graphql::inputs::ChangeFilter;
use crate::ids::global;
use crate::store::blackouts;
use crate::store::listing::{self, Filter};
use crate::store::lookup::by_ids;

/// Most changes (and, apart, releases) one feed lists.
const MAX_EVENTS: u64 = 2_000;
/// How far back the feed reaches when `plannedFrom` is not given.
const DEFAULT_PAST_DAYS: i64 = 90;
/// How far ahead it reaches when `plannedTo` is not given.
const DEFAULT_FUTURE_DAYS: i64 = 730;
/// How often calendar clients should refresh.
const REFRESH_MINUTES: i64 = 15;

/// Marks a request whose token came as `?token=` (moved into `Authorization` by
/// [`token_from_query`] before anything logged the URL).
#[derive(Clone, Copy, Debug)]
struct TokenFromQuery;

/// Middleware for `/calendar/`: moves a `token` query parameter into the `Authorization`
/// header and out of the URL, so that no log line, span or error carries it; refuses one
/// sent with an `Authorization` header too.
pub async fn token_from_query(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if !req.path().starts_with("/calendar/") || !req.query_string().contains("token=") {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let token = pairs
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone());
    let rest: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(k, _)| k != "token"))
        .finish();
    let path = req.path().to_owned();
    let uri = if rest.is_empty() {
        path
    } else {
        format!("{path}?{rest}")
    };
    if let Ok(uri) = uri.parse() {
        req.head_mut().uri = uri;
    }
    if req.headers().contains_key(AUTHORIZATION) {
        let err = AppError::bad_input("give the token once: as `?token=` or in `Authorization`");
        let response = error_response(StatusCode::BAD_REQUEST, err);
        return Ok(req.into_response(response));
    }
    if let Some(value) = token.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()) {
        req.headers_mut().insert(AUTHORIZATION, value);
        req.extensions_mut().insert(TokenFromQuery);
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

pub async fn changes_ics(
    state: web::Data<AppState>,
    http: HttpRequest,
    params: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    let viewer = match admit(&state, &http, 1).await {
        Ok(v) => v,
        Err(err) => return refused(err),
    };
    let in_url = http.extensions().get::<TokenFromQuery>().is_some();
    if in_url && viewer.scope != Some(TokenScope::Read) {
        return refused(AppError::Unauthenticated(
            "a token given as `?token=` must have READ scope (URLs end up in settings and logs); \
             create one with `portfolio token create --scope read`"
                .into(),
        ));
    }
    let filter = match filter::<ChangeFilter>(&params, &CHANGE_PARAMS).and_then(|f| f.resolve(None))
    {
        Ok(f) => f,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, e),
    };
    let links = Links::of(&state, &http);
    match feed(&state.db, filter, &links).await {
        Ok(text) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/calendar; charset=utf-8"))
            .insert_header((CONTENT_DISPOSITION, "inline; filename=\"changes.ics\""))
            .insert_header((CACHE_CONTROL, "private, max-age=300"))
            .body(text),
        Err(e) => {
            tracing::error!(error = %e.operator_message(), "calendar feed failed");
            error_response(StatusCode::SERVICE_UNAVAILABLE, e)
        }
    }
}

/// Where an event's link points.
struct Links {
    /// `--change-url` with `{number}`, if set.
    template: Option<String>,
    /// This server's origin, for GraphiQL links otherwise.
    origin: String,
}

impl Links {
    fn of(state: &AppState, http: &HttpRequest) -> Self {
        let info = http.connection_info();
        Self {
            template: state.change_url.clone(),
            origin: format!("{}://{}", info.scheme(), info.host()),
        }
    }

    /// The change's page: the configured portal's, or this server's GraphiQL with a query
    /// for it.
    fn change(&self, number: &str) -> String {
        if let Some(t) = &self.template {
            return t.replace("{number}", number);
        }
        let query = format!(
            "{{ change(number: \"{number}\") {{ number title status risk plannedStart plannedEnd \
             services(first: 50) {{ nodes {{ key name }} }} }} }}"
        );
        let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        format!("{}/?query={encoded}", self.origin)
    }
}

/// A stable UID: the object's global ID, which no edit changes.
fn uid(type_name: &str, id: i64) -> String {
    format!("{}@service-portfolio-graph", global(type_name, id))
}

/// The event of row `id` of `type_name` over `window`: its UID, its row version as
/// SEQUENCE (clients replace an event whose sequence rose) and its last change as DTSTAMP.
fn event(
    type_name: &str,
    id: i64,
    version: i32,
    updated_at: DateTime<Utc>,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Event {
    let mut e = Event::new();
    e.uid(&uid(type_name, id))
        .sequence(version.max(0) as u32)
        .timestamp(updated_at)
        .last_modified(updated_at)
        .starts(start)
        .ends(end);
    e
}

/// Keys of `ids` among `services`, comma-separated.
fn keys(ids: &[i64], services: &HashMap<i64, service::Model>) -> String {
    let mut keys: Vec<&str> = ids
        .iter()
        .filter_map(|id| services.get(id).map(|s| s.key.as_str()))
        .collect();
    keys.sort_unstable();
    keys.join(", ")
}

/// The feed for the changes matching `filter` (SCHEDULED and IMPLEMENTING ones unless it
/// names statuses), with the blackout windows and release windows of the same period.
async fn feed(
    db: &DatabaseConnection,
    mut filter: listing::ChangeFilter,
    links: &Links,
) -> AppResult<String> {
    let now = Utc::now();
    if filter.status.is_none() {
        filter.status = Some(vec![ChangeStatus::Scheduled, ChangeStatus::Implementing]);
    }
    let from = *filter
        .planned_from
        .get_or_insert(now - Duration::days(DEFAULT_PAST_DAYS));
    let to = filter
        .planned_to
        .unwrap_or(now + Duration::days(DEFAULT_FUTURE_DAYS));
    let changes = change::Entity::find()
        .filter(filter.condition(listing::ChangeScope::Root))
        .filter(change::Column::PlannedStart.is_not_null())
        .filter(change::Column::PlannedEnd.is_not_null())
        .order_by_asc(change::Column::PlannedStart)
        .order_by_asc(change::Column::Id)
        .limit(MAX_EVENTS)
        .all(db)
        .await?;
    let release_filter = listing::ReleaseFilter {
        status: None,
        release_type: None,
        project_id: filter.project_id,
        service_id: filter.service_id,
        planned_from: None,
        planned_to: None,
        search: None,
    };
    let releases = release::Entity::find()
        .filter(release_filter.condition(listing::ReleaseScope::Root))
        .filter(release::Column::PlannedStart.lt(to))
        .filter(release::Column::PlannedEnd.gt(from))
        .filter(release::Column::Status.ne(ReleaseStatus::Closed))
        .order_by_asc(release::Column::PlannedStart)
        .limit(MAX_EVENTS)
        .all(db)
        .await?;
    let service_filter = filter.service_id.map(|s| vec![s]);
    let windows = blackouts::overlapping(db, from, to, service_filter.as_deref()).await?;

    let change_ids: Vec<i64> = changes.iter().map(|c| c.id).collect();
    let release_ids: Vec<i64> = releases.iter().map(|r| r.id).collect();
    let of_changes = blackouts::services_of(db, &change_ids).await?;
    let of_releases = blackouts::services_of_releases(db, &release_ids).await?;
    let mut wanted: Vec<i64> = of_changes
        .values()
        .chain(of_releases.values())
        .flatten()
        .chain(windows.iter().flat_map(|w| w.services.iter()))
        .copied()
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let services = if wanted.is_empty() {
        HashMap::new()
    } else {
        by_ids::<service::Entity, _>(db, &wanted).await?
    };

    let mut cal = Calendar::new();
    cal.name("Change schedule")
        .description("Scheduled and implementing changes, change freezes and release windows")
        .ttl(&Duration::minutes(REFRESH_MINUTES));
    let none = Vec::new();
    for c in &changes {
        let (Some(start), Some(end)) = (c.planned_start, c.planned_end) else {
            continue;
        };
        let link = links.change(&c.number);
        let touched = keys(of_changes.get(&c.id).unwrap_or(&none), &services);
        let description = format!(
            "{} {} change, risk {}, status {}.\nServices: {}\n{}",
            c.category.as_str(),
            c.change_type.as_str(),
            c.risk.as_str(),
            c.status.as_str(),
            if touched.is_empty() { "none" } else { &touched },
            link
        );
        let status = match c.status {
            ChangeStatus::Cancelled => EventStatus::Cancelled,
            ChangeStatus::Scheduled | ChangeStatus::Implementing => EventStatus::Confirmed,
            _ => EventStatus::Tentative,
        };
        cal.push(
            event("Change", c.id, c.version, c.updated_at, (start, end))
                .created(c.created_at)
                .summary(&format!("{} {}", c.number, c.title))
                .description(&description)
                .url(&link)
                .status(status)
                .categories(["Change", c.change_type.as_str(), c.risk.as_str()])
                .done(),
        );
    }
    for w in &windows {
        let b = &w.model;
        let covered = if w.services.is_empty() {
            "every service".to_owned()
        } else {
            keys(&w.services, &services)
        };
        cal.push(
            event(
                "BlackoutWindow",
                b.id,
                b.version,
                b.updated_at,
                (b.starts_at, b.ends_at),
            )
            .summary(&format!("Change freeze: {}", b.name))
            .description(&format!(
                "{}\nCovers: {covered}. Only EMERGENCY changes may be scheduled into it.",
                b.reason
            ))
            .status(EventStatus::Confirmed)
            .categories(["Blackout"])
            .done(),
        );
    }
    for r in &releases {
        let (Some(start), Some(end)) = (r.planned_start, r.planned_end) else {
            continue;
        };
        let shipped = keys(of_releases.get(&r.id).unwrap_or(&none), &services);
        cal.push(
            event("Release", r.id, r.revision, r.updated_at, (start, end))
                .summary(&format!("Release {} {}", r.name, r.version))
                .description(&format!(
                    "{} release, status {}.\nServices: {}",
                    r.release_type.as_str(),
                    r.status.as_str(),
                    if shipped.is_empty() { "none" } else { &shipped }
                ))
                .status(EventStatus::Confirmed)
                .categories(["Release"])
                .done(),
        );
    }
    Ok(cal.done().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_links_to_the_configured_portal_or_to_graphiql_here() {
        let portal = Links {
            template: Some("https://portal.example.org/changes/{number}".into()),
            origin: "http://127.0.0.1:8080".into(),
        };
        assert_eq!(
            portal.change("CHG0000042"),
            "https://portal.example.org/changes/CHG0000042"
        );
        let here = Links {
            template: None,
            origin: "http://127.0.0.1:8080".into(),
        };
        let link = here.change("CHG0000042");
        assert!(link.starts_with("http://127.0.0.1:8080/?query="), "{link}");
        assert!(link.contains("CHG0000042") && !link.contains(' '), "{link}");
    }

    #[test]
    fn uids_are_the_global_ids_and_do_not_depend_on_the_row_contents() {
        assert_eq!(
            uid("Change", 7),
            format!("{}@service-portfolio-graph", global("Change", 7))
        );
        assert_ne!(uid("Change", 7), uid("Release", 7));
    }
}
