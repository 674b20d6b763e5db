//! Connections and lists of changes, services and releases read only the columns that the
//! selected fields need. Every field of those types, selected alone on every path that
//! narrows, must answer exactly what the whole row answers (through `nodes`): a field whose
//! columns were listed wrongly would come back empty, zero or as another enum value.

use std::collections::BTreeMap;

use entity::change;
use portfolio::store::listing::{ChangeFilter, ChangeScope, List};
use portfolio::store::page::{PageArgs, fetch_pages};
use portfolio::store::rows::Columns;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A field's type with its wrappers removed: (kind, name).
fn named(ty: &Value) -> (&str, &str) {
    let mut t = ty;
    while t["ofType"].is_object() {
        t = &t["ofType"];
    }
    (
        t["kind"].as_str().unwrap_or(""),
        t["name"].as_str().unwrap_or(""),
    )
}

/// The schema's types by name, from introspection.
async fn schema_types(app: &TestApp, admin: &str) -> BTreeMap<String, Value> {
    let data = app
        .ok_as(
            admin,
            "{ __schema { types { name kind interfaces { name }
                fields { name args { name defaultValue type { kind } }
                  type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }",
            json!({}),
        )
        .await;
    data["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| (t["name"].as_str().unwrap_or("").to_owned(), t.clone()))
        .collect()
}

/// Fields of `ty` a client can select without arguments.
fn selectable(ty: &Value) -> Vec<&Value> {
    ty["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            f["args"].as_array().into_iter().flatten().all(|a| {
                a["type"]["kind"].as_str() != Some("NON_NULL") || !a["defaultValue"].is_null()
            })
        })
        .collect()
}

/// The selection of `field` aliased `v`, with a sub-selection that shows its value.
fn selection(types: &BTreeMap<String, Value>, field: &Value) -> String {
    let name = field["name"].as_str().unwrap_or("");
    let (kind, type_name) = named(&field["type"]);
    let sub = match kind {
        "SCALAR" | "ENUM" => String::new(),
        _ if type_name.ends_with("Connection") => "{ totalCount }".into(),
        "OBJECT" => {
            let ty = &types[type_name];
            let is_node = ty["interfaces"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| i["name"] == "Node");
            if is_node {
                "{ id }".into()
            } else {
                let leaves: Vec<&str> = selectable(ty)
                    .into_iter()
                    .filter(|f| matches!(named(&f["type"]).0, "SCALAR" | "ENUM"))
                    .filter_map(|f| f["name"].as_str())
                    .collect();
                format!("{{ __typename {} }}", leaves.join(" "))
            }
        }
        _ => "{ __typename }".into(),
    };
    format!("v: {name} {sub}")
}

/// Every object of the answer that has both an `id` and the aliased value `v`.
fn collect<'a>(value: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(id)), Some(v)) = (map.get("id"), map.get("v")) {
                out.push((id, v));
            }
            map.values().for_each(|v| collect(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_field_of_a_narrowed_row_answers_what_the_whole_row_answers() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let types = schema_types(&app, &admin).await;
    // Each path narrows its rows by a different statement: a top-level page, a page per
    // parent, edges, and a plain list per parent.
    let paths: [(&str, &[&str]); 3] = [
        (
            "Change",
            &[
                "changes(first: 100) { nodes { id SEL } }",
                "changes(first: 100) { edges { node { id SEL } } }",
                "services(first: 20) { nodes { changes(first: 20, orderBy: { field: CREATED_AT, direction: DESC }) { nodes { id SEL } } } }",
            ],
        ),
        (
            "Service",
            &[
                "services(first: 100) { nodes { id SEL } }",
                "serviceOfferings(first: 20) { nodes { services(first: 20) { nodes { id SEL } } } }",
            ],
        ),
        (
            "Release",
            &[
                "releases(first: 100) { nodes { id SEL } }",
                "changes(first: 50) { nodes { releases { id SEL } } }",
            ],
        ),
    ];
    let mut checked = 0;
    for (type_name, queries) in paths {
        let fields = selectable(&types[type_name]);
        assert!(fields.len() > 10, "{type_name} has its fields");
        for field in fields {
            let sel = selection(&types, field);
            for query in queries {
                let narrowed = app
                    .ok_as(
                        &admin,
                        &format!("{{ {} }}", query.replace("SEL", &sel)),
                        json!({}),
                    )
                    .await;
                let mut found = Vec::new();
                collect(&narrowed, &mut found);
                assert!(!found.is_empty(), "{query} with {sel} returned rows");
                let ids: Vec<&str> = found.iter().map(|(id, _)| *id).collect();
                let whole = app
                    .ok_as(
                        &admin,
                        &format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on {type_name} {{ id {sel} }} }} }}"),
                        json!({ "ids": ids }),
                    )
                    .await;
                let mut expected = Vec::new();
                collect(&whole, &mut expected);
                let expected: BTreeMap<&str, &Value> = expected.into_iter().collect();
                for (id, v) in &found {
                    assert_eq!(
                        Some(v),
                        expected.get(id),
                        "{type_name}.{} of {id} through `{query}`",
                        field["name"]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "values compared: {checked}");
}

#[tokio::test]
async fn a_narrowed_page_reads_only_the_columns_it_names() {
    let app = spawn_app().await;
    let list = |columns| {
        List::new(
            ChangeScope::Root,
            ChangeFilter::default(),
            &PageArgs {
                first: Some(5),
                ..PageArgs::default()
            },
        )
        .expect("a valid page")
        .narrowed(columns)
    };
    let number = Columns::id::<change::Model>().with::<change::Model>(&["number"]);
    let narrow = fetch_pages(&app.db, &list(number), None)
        .await
        .expect("page");
    let whole = fetch_pages(&app.db, &list(Columns::ALL), None)
        .await
        .expect("page");
    let (narrow, whole) = (&narrow[&None].rows, &whole[&None].rows);
    assert_eq!(narrow.len(), 5);
    for ((_, n), (_, w)) in narrow.iter().zip(whole) {
        assert_eq!((n.id, &n.number), (w.id, &w.number));
        assert!(!w.title.is_empty(), "the whole row has a title");
        assert_eq!(n.title, "", "a column not selected is not read");
        assert_eq!(n.version, 0);
    }
}
