//! Property tests: random and malformed documents, variables and IDs thrown at the real
//! server. Whatever arrives, the answer is JSON, never a 5xx, and every error carries one of
//! the documented codes.

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// The codes the README documents.
const DOCUMENTED: [&str; 11] = [
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "INVALID_TRANSITION",
    "LIMIT_EXCEEDED",
    "INTERNAL",
    "EVENTS_MISSED",
    "PERSISTED_QUERY_NOT_FOUND",
    "RATE_LIMITED",
];

/// A server of one property's own, the runtime that drives it (proptest runs cases
/// synchronously) and an ADMIN token.
struct World {
    rt: tokio::runtime::Runtime,
    app: TestApp,
    token: String,
}

/// Runs a property: every case of `strategy`, turned into a request body by `body`, against
/// a server of its own — what one property's random mutations change cannot decide
/// another's outcome — which is dropped with its database at the end. A failing case's
/// seed is saved under `proptest-regressions/` (commit it) and replayed first by every
/// later run.
fn property<S>(strategy: S, body: impl Fn(S::Value) -> Value)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let app = rt.block_on(spawn_app());
    let token = app.token("admin");
    let world = World { rt, app, token };
    let mut runner = TestRunner::new(Config {
        cases: 256,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |value| check(&world, body(value)));
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Sends `body` as a POST; checks the answer's invariants.
fn check(world: &World, body: Value) -> Result<(), TestCaseError> {
    let World { rt, app, token } = world;
    let (status, answer) = rt.block_on(async {
        let res = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(token)
            .header("accept", "application/graphql-response+json")
            .json(&body)
            .send()
            .await
            .expect("sent");
        let status = res.status().as_u16();
        (status, res.json::<Value>().await)
    });
    prop_assert!(status < 500, "HTTP {} for {}", status, body);
    let answer = answer.map_err(|e| TestCaseError::fail(format!("not JSON ({e}) for {body}")))?;
    // A batch answers with one response per operation.
    let responses = match answer {
        Value::Array(items) => items,
        one => vec![one],
    };
    for answer in responses {
        let errors = answer["errors"].as_array().cloned().unwrap_or_default();
        for e in &errors {
            let code = e["extensions"]["code"].as_str().unwrap_or("<none>");
            prop_assert!(
                DOCUMENTED.contains(&code),
                "code {} for {}: {}",
                code,
                body,
                e
            );
            prop_assert!(code != "INTERNAL", "an internal error for {}: {}", body, e);
        }
        prop_assert!(
            answer.get("data").is_some() || !errors.is_empty(),
            "data or errors for {}",
            body
        );
    }
    Ok(())
}

const FIELDS: [&str; 16] = [
    "service",
    "services",
    "change",
    "changes",
    "node",
    "nodes",
    "releases",
    "projects",
    "viewer",
    "changeMetrics",
    "changeSchedule",
    "serviceOfferings",
    "processes",
    "people",
    "auditEvents",
    "blackoutWindows",
];
const INNER: [&str; 12] = [
    "id",
    "key",
    "name",
    "number",
    "status",
    "nodes",
    "edges",
    "pageInfo",
    "totalCount",
    "services",
    "changes",
    "owner",
];
const MUTATIONS: [&str; 8] = [
    "createChange",
    "submitChange",
    "approveChange",
    "advanceRelease",
    "updateService",
    "createBlackoutWindow",
    "cancelChange",
    "addChangeToRelease",
];

/// A JSON value of any shape, for arguments and variables.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        "[A-Za-z0-9+/=]{0,32}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A GraphQL literal, well-formed or not.
fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i32>().prop_map(|n| n.to_string()),
        "[A-Za-z0-9+/=_ -]{0,20}".prop_map(|s| format!("\"{s}\"")),
        Just("null".to_owned()),
        Just("true".to_owned()),
        "[A-Z_]{1,12}".prop_map(|s| s),
        Just("$v".to_owned()),
        Just("[1, \"x\", null]".to_owned()),
        Just("{ a: 1 }".to_owned()),
    ]
}

/// A document built from the schema's words, nested and aliased at random.
fn document() -> impl Strategy<Value = String> {
    let arg = ("[a-zA-Z]{1,10}", literal()).prop_map(|(n, v)| format!("{n}: {v}"));
    let args = prop::collection::vec(arg, 0..3).prop_map(|a| {
        if a.is_empty() {
            String::new()
        } else {
            format!("({})", a.join(", "))
        }
    });
    let inner =
        prop::collection::vec(prop::sample::select(INNER.to_vec()), 0..4).prop_map(|f| f.join(" "));
    let field = (
        prop::option::of("[a-z]{1,5}"),
        prop_oneof![
            prop::sample::select(FIELDS.to_vec()),
            prop::sample::select(MUTATIONS.to_vec())
        ],
        args,
        prop::option::of(inner),
    )
        .prop_map(|(alias, name, args, inner)| {
            let alias = alias.map(|a| format!("{a}: ")).unwrap_or_default();
            let inner = inner.map(|i| format!(" {{ {i} }}")).unwrap_or_default();
            format!("{alias}{name}{args}{inner}")
        });
    (
        prop_oneof![
            Just(""),
            Just("query Q($v: ID) "),
            Just("mutation "),
            Just("subscription ")
        ],
        prop::collection::vec(field, 1..4),
    )
        .prop_map(|(op, fields)| format!("{op}{{ {} }}", fields.join(" ")))
}

#[test]
fn any_text_as_a_document_gets_a_documented_answer() {
    property(".{0,200}", |query: String| json!({ "query": query }));
}

#[test]
fn documents_of_schema_words_get_documented_answers() {
    property(
        (document(), any_json()),
        |(query, v)| json!({ "query": query, "variables": { "v": v } }),
    );
}

#[test]
fn any_json_as_variables_or_ids_gets_a_documented_answer() {
    property((any_json(), ".{0,40}"), |(v, id): (Value, String)| {
        json!({
            "query": "query($v: ChangeFilter, $id: ID!) { changes(filter: $v) { totalCount } node(id: $id) { id } }",
            "variables": { "v": v, "id": id }
        })
    });
}

#[test]
fn any_json_as_the_body_gets_a_documented_answer() {
    property(any_json(), |body| body);
}
