//! The blast radius of a service or a change, transitive schedule conflicts and the risk
//! assessment, each checked against the same answers computed here from the plain graph.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

/// The demo's dependency edges, as (dependent, depended on) keys.
async fn edges(app: &TestApp) -> Vec<(String, String)> {
    let q = "{ services(first: 100) { nodes { key dependsOn(first: 100) { nodes { key } } } } }";
    let data = app.data(q, json!({})).await;
    let mut out = Vec::new();
    for s in data["services"]["nodes"].as_array().into_iter().flatten() {
        for d in s["dependsOn"]["nodes"].as_array().into_iter().flatten() {
            out.push((key(s), key(d)));
        }
    }
    assert!(out.len() >= 10, "the demo has a dependency graph: {out:?}");
    out
}

fn key(v: &Value) -> String {
    v["key"].as_str().unwrap_or_default().to_owned()
}

/// Shortest distances from `origins` through dependents, to `depth` edges, by plain BFS.
fn bfs(edges: &[(String, String)], origins: &[String], depth: u32) -> BTreeMap<String, u32> {
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (s, d) in edges {
        dependents.entry(d).or_default().push(s);
    }
    let mut dist: BTreeMap<String, u32> = origins.iter().map(|o| (o.clone(), 0)).collect();
    let mut queue: VecDeque<String> = origins.iter().cloned().collect();
    while let Some(at) = queue.pop_front() {
        let d = dist[&at];
        if d == depth {
            continue;
        }
        for next in dependents.get(at.as_str()).into_iter().flatten() {
            if !dist.contains_key(*next) {
                dist.insert((*next).to_owned(), d + 1);
                queue.push_back((*next).to_owned());
            }
        }
    }
    dist
}

/// Asserts `path` is a chain of dependents from an origin to `to`, `distance` edges long.
fn assert_path(
    edges: &[(String, String)],
    origins: &[String],
    path: &[String],
    to: &str,
    distance: u32,
) {
    assert_eq!(path.len() as u32, distance + 1, "{path:?} to {to}");
    assert!(origins.contains(&path[0]), "{path:?} starts at an origin");
    assert_eq!(path.last().map(String::as_str), Some(to));
    for step in path.windows(2) {
        assert!(
            edges.contains(&(step[1].clone(), step[0].clone())),
            "{} depends on {} in {path:?}",
            step[1],
            step[0]
        );
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// Each offering's key, consumer group and service keys.
async fn offerings(app: &TestApp) -> Vec<(String, String, Vec<String>)> {
    let q = "{ serviceOfferings(first: 100) { nodes { key targetConsumerGroup services(first: 100) { nodes { key } } } } }";
    let data = app.data(q, json!({})).await;
    data["serviceOfferings"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            let services = o["services"]["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(key)
                .collect();
            (
                key(o),
                o["targetConsumerGroup"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                services,
            )
        })
        .collect()
}

const RADIUS: &str = "query($k: String!, $d: Int!) { service(key: $k) { blastRadius(depth: $d) {
    depth origins { key } services { key distance path criticality service { key } }
    highestCriticality offerings { key } consumerGroups } } }";

#[tokio::test]
async fn a_blast_radius_holds_every_service_reached_once_at_its_shortest_distance_with_a_path() {
    let app = spawn_app().await;
    let edges = edges(&app).await;
    let catalog = offerings(&app).await;
    let keys: BTreeSet<String> = edges
        .iter()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    for origin in &keys {
        for depth in [1, 3, 10] {
            let got = app.data(RADIUS, json!({ "k": origin, "d": depth })).await["service"]
                ["blastRadius"]
                .clone();
            assert_eq!(got["depth"], depth);
            let origins: Vec<String> = got["origins"]
                .as_array()
                .into_iter()
                .flatten()
                .map(key)
                .collect();
            assert_eq!(origins, std::slice::from_ref(origin));
            let mut expected = bfs(&edges, std::slice::from_ref(origin), depth);
            expected.remove(origin);
            let services = got["services"].as_array().cloned().unwrap_or_default();
            let found: BTreeMap<String, u32> = services
                .iter()
                .map(|s| (key(s), s["distance"].as_u64().unwrap_or(99) as u32))
                .collect();
            assert_eq!(
                found.len(),
                services.len(),
                "each service once from {origin}"
            );
            assert_eq!(found, expected, "from {origin} to depth {depth}");
            for s in &services {
                assert_eq!(s["service"]["key"], s["key"]);
                let path = strings(&s["path"]);
                assert_path(
                    &edges,
                    std::slice::from_ref(origin),
                    &path,
                    &key(s),
                    found[&key(s)],
                );
            }
            let distances: Vec<u32> = found.values().copied().collect();
            let ordered: Vec<u32> = services
                .iter()
                .map(|s| s["distance"].as_u64().unwrap_or(0) as u32)
                .collect();
            assert!(
                ordered.windows(2).all(|w| w[0] <= w[1]),
                "nearest first: {ordered:?}"
            );
            assert_eq!(ordered.len(), distances.len());
            // The offerings holding the origin or any service reached, and their groups.
            let within: BTreeSet<&String> = expected.keys().chain([origin]).collect();
            let holding: Vec<&(String, String, Vec<String>)> = catalog
                .iter()
                .filter(|(_, _, s)| s.iter().any(|k| within.contains(k)))
                .collect();
            let got_offerings: BTreeSet<String> = got["offerings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(key)
                .collect();
            let want: BTreeSet<String> = holding.iter().map(|o| o.0.clone()).collect();
            assert_eq!(got_offerings, want, "offerings from {origin} at {depth}");
            let groups: BTreeSet<String> = holding.iter().map(|o| o.1.clone()).collect();
            assert_eq!(
                strings(&got["consumerGroups"]),
                groups.into_iter().collect::<Vec<_>>()
            );
        }
    }
}

#[tokio::test]
async fn identity_reaches_the_payroll_cycle_once_and_the_depth_is_checked() {
    let app = spawn_app().await;
    let got = app
        .data(RADIUS, json!({ "k": "identity-sso", "d": 10 }))
        .await["service"]["blastRadius"]
        .clone();
    let reached: Vec<(String, u64)> = got["services"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (key(s), s["distance"].as_u64().unwrap_or(0)))
        .collect();
    // Payroll and the HR portal depend on each other and on identity: each is one step away.
    assert!(reached.contains(&("payroll".into(), 1)), "{reached:?}");
    assert!(reached.contains(&("hr-portal".into(), 1)), "{reached:?}");
    assert_eq!(
        reached.iter().filter(|(k, _)| k == "payroll").count(),
        1,
        "{reached:?}"
    );
    assert_eq!(got["highestCriticality"], "CRITICAL");
    for (depth, code) in [
        (0, "BAD_USER_INPUT"),
        (-2, "BAD_USER_INPUT"),
        (11, "LIMIT_EXCEEDED"),
    ] {
        assert_eq!(
            app.error_code(RADIUS, json!({ "k": "identity-sso", "d": depth }))
                .await,
            code,
            "depth {depth}"
        );
    }
}

/// Creates a draft change on `services` planned in `[start, end)`; returns its id.
async fn planned(app: &TestApp, title: &str, services: &[&str], start: &str, end: &str) -> String {
    let mut ids = Vec::new();
    for s in services {
        ids.push(service_id(app, s).await);
    }
    let window =
        json!({ "title": title, "serviceIds": ids, "plannedStart": start, "plannedEnd": end });
    draft(app, &app.token("requester"), "NORMAL", "LOW", window).await
}

/// A change to plan: title, services, and start and end as (day, hour) of March 2031.
type Plan<'a> = (&'a str, &'a [&'a str], (u32, u32), (u32, u32));

#[tokio::test]
async fn a_transitive_schedule_adds_exactly_the_pairs_a_blast_radius_connects() {
    let app = spawn_app().await;
    let edges = edges(&app).await;
    let day = |d: u32, h: u32| format!("2031-03-{d:02}T{h:02}:00:00Z");
    // Overlapping windows on services related in several ways, and one apart.
    let plan: [Plan; 7] = [
        ("SSO keys", &["identity-sso"], (3, 8), (3, 20)),
        ("Payroll run", &["payroll"], (3, 10), (3, 12)),
        ("Warehouse load", &["data-warehouse"], (3, 11), (3, 13)),
        (
            "Mobile release",
            &["mobile-app", "service-desk"],
            (3, 12),
            (3, 18),
        ),
        ("Mail and VPN", &["email", "vpn"], (3, 9), (3, 10)),
        ("SSO again", &["identity-sso"], (3, 19), (3, 22)),
        ("Far away", &["payroll"], (9, 8), (9, 9)),
    ];
    for (title, services, start, end) in plan {
        let (start, end) = (day(start.0, start.1), day(end.0, end.1));
        planned(&app, title, services, &start, &end).await;
    }
    let q = "query($f: DateTime!, $t: DateTime!, $x: Boolean!) { changeSchedule(from: $f, to: $t, transitive: $x) {
        changes { id plannedStart plannedEnd status services(first: 10) { nodes { key } } }
        conflicts { first { id } second { id } service { key } reason path distance } } }";
    let vars = |x: bool| json!({ "f": day(1, 0), "t": day(28, 0), "x": x });
    let plain = app.data(q, vars(false)).await["changeSchedule"].clone();
    let with = app.data(q, vars(true)).await["changeSchedule"].clone();
    assert_eq!(plain["changes"], with["changes"]);
    let changes = with["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 7);
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or("")).ok();
    let touches = |c: &Value| -> Vec<String> {
        c["services"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(key)
            .collect()
    };
    // Computed pairwise: same service once per service; else the shortest radius path.
    let mut expected = BTreeSet::new();
    for (i, a) in changes.iter().enumerate() {
        for b in &changes[i + 1..] {
            let overlap = at(&a["plannedStart"]) < at(&b["plannedEnd"])
                && at(&b["plannedStart"]) < at(&a["plannedEnd"]);
            if !overlap {
                continue;
            }
            let pair = {
                let mut p = [
                    a["id"].as_str().unwrap_or("").to_owned(),
                    b["id"].as_str().unwrap_or("").to_owned(),
                ];
                p.sort();
                p
            };
            let (ta, tb) = (touches(a), touches(b));
            let shared: Vec<&String> = ta.iter().filter(|s| tb.contains(s)).collect();
            if !shared.is_empty() {
                for s in shared {
                    expected.insert((pair.clone(), "SAME_SERVICE".to_owned(), 0u64, s.clone()));
                }
                continue;
            }
            let near = |from: &[String], to: &[String]| {
                let d = bfs(&edges, from, 3);
                to.iter().filter_map(|s| d.get(s).copied()).min()
            };
            if let Some(d) = [near(&ta, &tb), near(&tb, &ta)].into_iter().flatten().min() {
                expected.insert((pair, "DEPENDENCY".to_owned(), u64::from(d), String::new()));
            }
        }
    }
    let conflicts = |s: &Value| -> BTreeSet<([String; 2], String, u64, String)> {
        s["conflicts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let mut p = [
                    c["first"]["id"].as_str().unwrap_or("").to_owned(),
                    c["second"]["id"].as_str().unwrap_or("").to_owned(),
                ];
                p.sort();
                let reason = c["reason"].as_str().unwrap_or("").to_owned();
                let service = if reason == "SAME_SERVICE" {
                    key(&c["service"])
                } else {
                    String::new()
                };
                (p, reason, c["distance"].as_u64().unwrap_or(99), service)
            })
            .collect()
    };
    let same: BTreeSet<_> = expected
        .iter()
        .filter(|c| c.1 == "SAME_SERVICE")
        .cloned()
        .collect();
    assert_eq!(
        conflicts(&plain),
        same,
        "without transitive, the same service only"
    );
    assert_eq!(conflicts(&with), expected);
    assert!(
        expected.iter().any(|c| c.1 == "DEPENDENCY" && c.2 >= 2),
        "a path of two edges or more: {expected:?}"
    );
    // Each dependency conflict's path runs from a service of one to a service of the other.
    let by_id: HashMap<String, Vec<String>> = changes
        .iter()
        .map(|c| (c["id"].as_str().unwrap_or("").to_owned(), touches(c)))
        .collect();
    for c in with["conflicts"].as_array().into_iter().flatten() {
        let path = strings(&c["path"]);
        let (f, s) = (
            &by_id[c["first"]["id"].as_str().unwrap_or("")],
            &by_id[c["second"]["id"].as_str().unwrap_or("")],
        );
        if c["reason"] == "SAME_SERVICE" {
            assert_eq!(path, [key(&c["service"])]);
            continue;
        }
        let to = key(&c["service"]);
        let origins = if f.contains(&path[0]) { f } else { s };
        assert_path(
            &edges,
            origins,
            &path,
            &to,
            c["distance"].as_u64().unwrap_or(0) as u32,
        );
        assert!(f.contains(&to) || s.contains(&to));
    }
}

#[tokio::test]
async fn a_changes_blast_radius_starts_from_all_its_services_and_feeds_its_offerings() {
    let app = spawn_app().await;
    let edges = edges(&app).await;
    let catalog = offerings(&app).await;
    let id = planned(
        &app,
        "Two roots",
        &["email", "data-warehouse"],
        "2031-05-01T08:00:00Z",
        "2031-05-01T09:00:00Z",
    )
    .await;
    let q = "query($id: ID!) { node(id: $id) { ... on Change {
        blastRadius { origins { key } services { key distance path } }
        direct: impactedOfferings { key }
        transitive: impactedOfferings(transitive: true) { key } } } }";
    let got = app.data(q, json!({ "id": id })).await["node"].clone();
    let origins = vec!["data-warehouse".to_owned(), "email".to_owned()];
    let mut from: Vec<String> = got["blastRadius"]["origins"]
        .as_array()
        .into_iter()
        .flatten()
        .map(key)
        .collect();
    from.sort();
    assert_eq!(from, origins);
    let mut expected = bfs(&edges, &origins, 3);
    for o in &origins {
        expected.remove(o);
    }
    let found: BTreeMap<String, u32> = got["blastRadius"]["services"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            assert_path(
                &edges,
                &origins,
                &strings(&s["path"]),
                &key(s),
                s["distance"].as_u64().unwrap_or(0) as u32,
            );
            (key(s), s["distance"].as_u64().unwrap_or(0) as u32)
        })
        .collect();
    assert_eq!(found, expected);
    let holding = |within: &BTreeSet<String>| -> BTreeSet<String> {
        catalog
            .iter()
            .filter(|(_, _, s)| s.iter().any(|k| within.contains(k)))
            .map(|o| o.0.clone())
            .collect()
    };
    let direct: BTreeSet<String> = origins.iter().cloned().collect();
    let all: BTreeSet<String> = expected
        .keys()
        .cloned()
        .chain(origins.iter().cloned())
        .collect();
    let keys_of =
        |v: &Value| -> BTreeSet<String> { v.as_array().into_iter().flatten().map(key).collect() };
    assert_eq!(keys_of(&got["direct"]), holding(&direct));
    assert_eq!(keys_of(&got["transitive"]), holding(&all));
    assert!(
        holding(&all).len() > holding(&direct).len(),
        "the reach adds offerings"
    );
}

#[tokio::test]
async fn the_risk_assessment_names_each_factor_of_a_crafted_change() {
    let app = spawn_app().await;
    let catalog = offerings(&app).await;
    let edges = edges(&app).await;
    // An EMERGENCY change declared LOW on the data warehouse, which the CRITICAL customer
    // portal depends on.
    let warehouse = service_id(&app, "data-warehouse").await;
    let only = json!({ "serviceIds": [warehouse] });
    let id = draft(&app, &app.token("requester"), "EMERGENCY", "LOW", only).await;
    let q = "query($id: ID!) { node(id: $id) { ... on Change { risk riskAssessment { suggested declared reasons } } } }";
    let got = app.data(q, json!({ "id": id })).await["node"].clone();
    let a = &got["riskAssessment"];
    assert_eq!(a["declared"], "LOW");
    assert_eq!(
        got["risk"], "LOW",
        "the assessment advises, it does not override"
    );
    // Computed here: the reach, its offerings, and the history of the warehouse's changes.
    let reach = bfs(&edges, &["data-warehouse".to_owned()], 3);
    let offerings = catalog
        .iter()
        .filter(|(_, _, s)| s.iter().any(|k| reach.contains_key(k)))
        .count();
    let hq =
        "{ service(key: \"data-warehouse\") { changes(first: 100) { nodes { id outcome } } } }";
    let history = app.data(hq, json!({})).await;
    let outcomes: Vec<String> = history["service"]["changes"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["id"] != json!(id))
        .filter_map(|c| c["outcome"].as_str().map(str::to_owned))
        .collect();
    let failed = outcomes.iter().filter(|o| *o != "SUCCESSFUL").count();
    let reasons = strings(&a["reasons"]);
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert_eq!(reasons[0], "declared LOW");
    assert_eq!(reasons[1], "EMERGENCY change: +1");
    let by_reach = i32::from(offerings >= 5);
    assert_eq!(
        reasons[2],
        format!(
            "{offerings} offering(s) touched through the blast radius (5 or more add 1): {by_reach:+}"
        )
    );
    let by_history = if outcomes.len() >= 3 {
        let percent = failed * 100 / outcomes.len();
        assert!(
            reasons[3].starts_with(&format!(
                "past failure rate on its services: {failed} of {} ({percent} %)",
                outcomes.len()
            )),
            "{reasons:?}"
        );
        match percent {
            50.. => 2,
            20.. => 1,
            _ => 0,
        }
    } else {
        assert!(reasons[3].contains("fewer than 3"), "{reasons:?}");
        0
    };
    assert_eq!(
        reasons[4],
        "highest criticality in the blast radius: CRITICAL (customer-portal, 1 step(s) away): at least HIGH"
    );
    let rank = (1 + by_reach + by_history).clamp(2, 3);
    assert_eq!(
        a["suggested"],
        ["LOW", "MEDIUM", "HIGH", "VERY_HIGH"][rank as usize]
    );
}
