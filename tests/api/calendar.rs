//! `GET /calendar/changes.ics`, read back with an iCalendar parser (the `ical` crate, not
//! the one that writes the feed).

use std::collections::HashMap;
use std::io::BufReader;

use entity::TokenScope;
use portfolio::config::ServeArgs;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_with};
use crate::ops::{authorized, change_ok, freeze_now, service_id, window_from_now};

/// One VEVENT: its properties by name (values unescaped), first occurrence.
type Event = HashMap<String, String>;

fn unescape(v: &str) -> String {
    v.replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
}

/// Parses a feed; fails unless it is exactly one VCALENDAR.
fn parse(text: &str) -> (HashMap<String, String>, Vec<Event>) {
    let mut calendars = ical::IcalParser::new(BufReader::new(text.as_bytes()));
    let cal = calendars
        .next()
        .expect("a VCALENDAR")
        .unwrap_or_else(|e| panic!("a valid iCalendar: {e}\n{text}"));
    assert!(calendars.next().is_none(), "one calendar");
    let props = |list: &[ical::property::Property]| {
        let mut out = HashMap::new();
        for p in list {
            out.entry(p.name.clone())
                .or_insert_with(|| unescape(p.value.as_deref().unwrap_or_default()));
        }
        out
    };
    let events = cal.events.iter().map(|e| props(&e.properties)).collect();
    (props(&cal.properties), events)
}

/// GETs the feed with `query` (and `token` as a bearer header); status and body.
async fn get(app: &TestApp, query: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = app
        .client
        .get(format!("{}/calendar/changes.ics{query}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("an answer");
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, res.text().await.expect("a body"))
}

fn ical_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("a time")
        .with_timezone(&chrono::Utc)
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// An authorized change scheduled `days` from now; returns its id, number and window.
async fn scheduled(app: &TestApp, days: i64) -> (String, Value) {
    let id = authorized(app).await;
    let (start, end) = window_from_now(days, 3);
    let c = change_ok(
        app,
        &app.token("admin"),
        "scheduleChange",
        json!({ "id": id, "start": start, "end": end }),
    )
    .await;
    (id, c)
}

fn by_uid<'a>(events: &'a [Event], prefix: &str) -> Option<&'a Event> {
    events
        .iter()
        .find(|e| e.get("UID").is_some_and(|u| u.starts_with(prefix)))
}

#[tokio::test]
async fn the_feed_has_one_event_per_scheduled_change_with_a_stable_uid_and_its_version_as_sequence()
{
    let app = spawn_app().await;
    let (id, c) = scheduled(&app, 40).await;
    let vpn = service_id(&app, "vpn").await;
    freeze_now(&app, "Quarter-end freeze", vec![vpn.clone()]).await;

    let (status, kind, text) = get(&app, "", None).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("text/calendar"), "{kind}");
    let (calendar, events) = parse(&text);
    assert_eq!(calendar.get("VERSION").map(String::as_str), Some("2.0"));
    let event = by_uid(&events, &id).unwrap_or_else(|| panic!("an event for {id}: {text}"));
    let number = c["number"].as_str().expect("a number");
    assert_eq!(event["SEQUENCE"], c["version"].to_string());
    assert_eq!(
        event["DTSTART"],
        ical_time(c["plannedStart"].as_str().expect("a start"))
    );
    assert_eq!(
        event["DTEND"],
        ical_time(c["plannedEnd"].as_str().expect("an end"))
    );
    assert!(event["SUMMARY"].starts_with(number), "{event:?}");
    assert!(
        event["SUMMARY"].contains("NORMAL change at MEDIUM risk"),
        "{event:?}"
    );
    let description = &event["DESCRIPTION"];
    assert!(description.contains("risk MEDIUM"), "{description}");
    assert!(description.contains("vpn"), "{description}");
    assert!(
        description.contains(&format!("{}/?query=", app.address)),
        "{description}"
    );
    assert!(event["URL"].contains(number), "{event:?}");
    let freeze = events
        .iter()
        .find(|e| e["SUMMARY"] == "Change freeze: Quarter-end freeze")
        .unwrap_or_else(|| panic!("the blackout window: {text}"));
    assert!(freeze["DESCRIPTION"].contains("vpn"), "{freeze:?}");
    assert!(freeze["UID"].ends_with("@service-portfolio-graph"));
    let uids: Vec<&String> = events.iter().map(|e| &e["UID"]).collect();
    let mut distinct = uids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), uids.len(), "UIDs are unique");

    // Rescheduled: the same UID, a higher SEQUENCE, the new times.
    let (start, end) = window_from_now(41, 2);
    let moved = change_ok(
        &app,
        &app.token("admin"),
        "scheduleChange",
        json!({ "id": id, "start": start, "end": end }),
    )
    .await;
    let (_, _, text) = get(&app, "", None).await;
    let (_, events) = parse(&text);
    let again = by_uid(&events, &id).expect("still there");
    assert_eq!(again["UID"], event["UID"]);
    assert_eq!(again["SEQUENCE"], moved["version"].to_string());
    assert!(again["SEQUENCE"].parse::<i64>().ok() > event["SEQUENCE"].parse::<i64>().ok());
    assert_eq!(again["DTSTART"], ical_time(&start));
}

#[tokio::test]
async fn the_feed_takes_the_csv_exports_filters_and_refuses_unknown_ones() {
    let app = spawn_app().await;
    let (id, _) = scheduled(&app, 50).await;
    let email = service_id(&app, "email").await;
    let vpn = service_id(&app, "vpn").await;

    let (_, _, text) = get(&app, &format!("?serviceId={vpn}"), None).await;
    let (_, events) = parse(&text);
    assert!(by_uid(&events, &id).is_some(), "it touches vpn");
    let (_, _, text) = get(&app, &format!("?serviceId={email}"), None).await;
    let (_, events) = parse(&text);
    assert!(by_uid(&events, &id).is_none(), "it does not touch email");
    let (_, _, text) = get(&app, "?risk=HIGH,VERY_HIGH", None).await;
    assert!(by_uid(&parse(&text).1, &id).is_none(), "it is MEDIUM");
    let (_, _, text) = get(&app, "?status=AUTHORIZED", None).await;
    assert!(by_uid(&parse(&text).1, &id).is_none(), "it is SCHEDULED");

    let (status, _, body) = get(&app, "?colour=blue", None).await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_str(&body).expect("a JSON error");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let (status, _, _) = get(&app, "?risk=ENORMOUS", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_calendar_client_authenticates_with_a_read_token_in_the_url_and_no_stronger_one() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(false),
        ..ServeArgs::default()
    })
    .await;
    let read = app.mint("alice@portfolio.example", TokenScope::Read).await;
    let write = app.token("requester");

    assert_eq!(get(&app, "", None).await.0, 401, "no token, no feed");
    let (status, _, text) = get(&app, &format!("?token={read}"), None).await;
    assert_eq!(status, 200, "{text}");
    parse(&text);
    let (status, _, body) = get(&app, &format!("?token={write}&risk=LOW"), None).await;
    assert_eq!(status, 401, "a WRITE token does not go in a URL: {body}");
    assert!(body.contains("READ"), "{body}");
    assert_eq!(
        get(&app, "", Some(&write)).await.0,
        200,
        "in the header, as for CSV"
    );
    assert_eq!(
        get(&app, &format!("?token={read}"), Some(&read)).await.0,
        400,
        "one token, once"
    );
    assert_eq!(get(&app, "?token=nope", None).await.0, 401);
}
