//! Reading a GraphQL request: its parameters, each checked for its type, and the facts the
//! handler needs before executing it (operation name, whether it mutates, its aliases).

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Variables};
use serde_json::{Map, Value};

use crate::error::AppError;

/// One GraphQL request from its JSON form, every parameter checked for its type.
pub(super) fn request_of(value: Value) -> Result<async_graphql::Request, AppError> {
    let Value::Object(mut o) = value else {
        return Err(AppError::bad_input(
            "a request is a JSON object: {\"query\": \"…\", \"variables\": {…}}",
        ));
    };
    let extensions = match o.remove("extensions") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(AppError::bad_input("`extensions` must be an object")),
    };
    let query = match o.remove("query") {
        Some(Value::String(q)) => q,
        // Automatic persisted queries send only the hash once the server knows it.
        None | Some(Value::Null) if extensions.contains_key("persistedQuery") => String::new(),
        None | Some(Value::Null) => {
            return Err(AppError::bad_input("the `query` parameter is missing"));
        }
        Some(_) => return Err(AppError::bad_input("`query` must be a string")),
    };
    let mut request = async_graphql::Request::new(query);
    match o.remove("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name),
        Some(_) => return Err(AppError::bad_input("`operationName` must be a string")),
    }
    match o.remove("variables") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => request = request.variables(Variables::from_json(v)),
        Some(_) => return Err(AppError::bad_input("`variables` must be an object")),
    }
    for (key, value) in extensions {
        let value = async_graphql::Value::from_json(value)
            .map_err(|e| AppError::bad_input(format!("extension `{key}`: {e}")))?;
        request.extensions.insert(key, value);
    }
    Ok(request)
}

/// What the handler learns from the document before executing it.
pub(super) struct Facts {
    /// The operation's name, for metrics and the slow-request log.
    pub name: Option<String>,
    pub mutation: bool,
    pub aliases: usize,
}

/// Parses the document (the engine reuses the parse) and reads its facts; `None` when it is
/// empty (a persisted query's hash) or does not parse (the engine reports that).
pub(super) fn facts(request: &mut async_graphql::Request) -> Option<Facts> {
    if request.query.is_empty() {
        return None;
    }
    let wanted = request.operation_name.clone();
    let doc = request.parsed_query().ok()?;
    let chosen = match &doc.operations {
        DocumentOperations::Single(op) => Some((None, op)),
        DocumentOperations::Multiple(ops) => match &wanted {
            Some(w) => ops
                .get_key_value(&Name::new(w))
                .map(|(n, op)| (Some(n), op)),
            None if ops.len() == 1 => ops.iter().next().map(|(n, op)| (Some(n), op)),
            None => None,
        },
    };
    Some(Facts {
        name: chosen
            .and_then(|(n, _)| n.map(|n| n.to_string()))
            .or(wanted),
        mutation: chosen.is_some_and(|(_, op)| op.node.ty == OperationType::Mutation),
        aliases: aliases(doc),
    })
}

/// Aliased fields in the document, each fragment counted as often as it is spread.
fn aliases(doc: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet, doc: &ExecutableDocument, depth: usize) -> usize {
        // Fragment cycles are invalid (validation refuses them later); stop early here.
        if depth > 64 {
            return 0;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some())
                        + count(&f.node.selection_set.node, doc, depth + 1)
                }
                Selection::InlineFragment(f) => count(&f.node.selection_set.node, doc, depth + 1),
                Selection::FragmentSpread(s) => doc
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .map_or(0, |f| count(&f.node.selection_set.node, doc, depth + 1)),
            })
            .fold(0usize, usize::saturating_add)
    }
    doc.operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node, doc, 0))
        .fold(0usize, usize::saturating_add)
}
