//! The README's scenario, run exactly as written: every ```graphql block that names its
//! persona (`# as: …`) is sent in order with that persona's demo token, and the IDs it says
//! to save (`# saves: name = field.path`) become the variables of the blocks after it.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// One runnable block of the README.
struct Step {
    persona: String,
    saves: Option<(String, String)>,
    document: String,
}

fn steps(readme: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut block: Option<Vec<String>> = None;
    for line in readme.lines() {
        let trimmed = line.trim();
        match (&mut block, trimmed) {
            (None, "```graphql") => block = Some(Vec::new()),
            (Some(lines), "```") => {
                let text = lines.join("\n");
                let meta = |key: &str| {
                    lines
                        .iter()
                        .find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_owned()))
                };
                if let Some(persona) = meta("# as:") {
                    let saves = meta("# saves:").and_then(|s| {
                        s.split_once('=')
                            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    });
                    out.push(Step {
                        persona,
                        saves,
                        document: text,
                    });
                }
                block = None;
            }
            (Some(lines), _) => lines.push(line.to_owned()),
            (None, _) => {}
        }
    }
    out
}

/// The variables `$name` a document uses that have been saved.
fn variables(document: &str, saved: &HashMap<String, Value>) -> Value {
    let mut vars = serde_json::Map::new();
    for (name, value) in saved {
        if document.contains(&format!("${name}")) {
            vars.insert(name.clone(), value.clone());
        }
    }
    Value::Object(vars)
}

#[tokio::test]
async fn the_readme_scenario_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let steps = steps(&readme);
    assert!(steps.len() >= 10, "the scenario has its ten steps");
    let app = spawn_app().await;
    let mut saved: HashMap<String, Value> = HashMap::new();
    let mut last = Value::Null;
    for step in &steps {
        let token = app.token(&step.persona);
        let vars = variables(&step.document, &saved);
        last = app.ok_as(&token, &step.document, vars).await;
        if let Some((name, path)) = &step.saves {
            let value = path.split('.').fold(&last, |v, key| &v[key]).clone();
            assert!(value.is_string(), "{path} in {last}");
            saved.insert(name.clone(), value);
        }
    }
    assert_eq!(last["closeChange"]["status"], "CLOSED");
    let actions: Vec<&str> = last["closeChange"]["history"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        actions,
        [
            "CREATED",
            "SUBMITTED",
            "AUTHORIZED",
            "SCHEDULED",
            "STARTED_BY_RELEASE",
            "COMPLETED_BY_RELEASE",
            "CLOSED"
        ]
    );
    let release = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Release { status } } }",
            json!({ "id": saved["release"] }),
        )
        .await;
    assert_eq!(release["node"]["status"], "CLOSED");
}
