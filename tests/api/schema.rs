//! The SDL file at the repository root is the schema the server serves, and every item of
//! it is described for the portal developers who read it in GraphiQL.

use serde_json::Value;

use crate::helpers::spawn_app;

#[test]
fn schema_graphql_at_the_repo_root_equals_the_served_schema() {
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists");
    let served = portfolio::graphql::sdl();
    // On failure the line diff shows what changed; `cargo run -- schema > schema.graphql`
    // updates the file once the change is meant.
    similar_asserts::assert_eq!(on_disk, served, "schema.graphql is stale");
}

const INTROSPECTION: &str = "{ __schema { types { name description
  fields(includeDeprecated: true) { name description args { name description } }
  inputFields { name description }
  enumValues(includeDeprecated: true) { name description } } } }";

#[tokio::test]
async fn every_type_field_argument_and_enum_value_of_the_served_schema_is_described() {
    let app = spawn_app().await;
    let schema = app.data(INTROSPECTION, serde_json::json!({})).await;
    let described = |v: &Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for t in schema["__schema"]["types"].as_array().into_iter().flatten() {
        let name = t["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        if !described(t) {
            missing.push(name.to_owned());
        }
        let members = ["fields", "inputFields", "enumValues"]
            .into_iter()
            .flat_map(|k| t[k].as_array().into_iter().flatten());
        for m in members {
            let member = format!("{name}.{}", m["name"].as_str().unwrap_or_default());
            if !described(m) {
                missing.push(member.clone());
            }
            for a in m["args"].as_array().into_iter().flatten() {
                if !described(a) {
                    missing.push(format!(
                        "{member}({})",
                        a["name"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed schema items: {missing:#?}");
}
