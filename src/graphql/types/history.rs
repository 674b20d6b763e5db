//! The portfolio's history: what changed between two instants, from the audit trail.

use async_graphql::{Context, ID, Json, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::node::{self, Node};
use crate::error::{AppError, AppResult};
use crate::graphql::ids::{Kind, encode};
use crate::store::history::{self, DiffCursor};

/// One object that changed in the period, its audit events folded into one difference:
/// each field as it was at the start and as it is at the end.
#[derive(async_graphql::Description)]
pub struct EntityDiff(pub history::EntityDiff);

#[Object(use_type_description)]
impl EntityDiff {
    /// GraphQL type name of the object, e.g. `Change`.
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    /// Global ID of the object.
    async fn entity_id(&self) -> ID {
        global(&self.0.entity_type, self.0.entity_id)
    }
    /// The object as it is now; null when it no longer exists.
    async fn entity(&self, ctx: &Context<'_>) -> Result<Option<Node>> {
        let id = global(&self.0.entity_type, self.0.entity_id);
        node::fetch(ctx, &id, "entityId").await
    }
    /// Its audit events in the period.
    async fn events(&self) -> i32 {
        i32::try_from(self.0.events).unwrap_or(i32::MAX)
    }
    /// When the first of them happened.
    async fn first_at(&self) -> DateTime<Utc> {
        self.0.first_at
    }
    /// When the last of them happened.
    async fn last_at(&self) -> DateTime<Utc> {
        self.0.last_at
    }
    /// The actions, first to last, e.g. `[CREATED, SUBMITTED]` when they differ, or one.
    async fn actions(&self) -> Vec<&str> {
        let (first, last) = (&self.0.first_action, &self.0.last_action);
        if self.0.events > 1 {
            vec![first, last]
        } else {
            vec![first]
        }
    }
    /// Created in the period: every field is new (`before` null).
    async fn created(&self) -> bool {
        self.0.created()
    }
    /// Gone by the end of the period: every field is gone (`after` null).
    async fn deleted(&self) -> bool {
        self.0.deleted()
    }
    /// Links to other objects made or undone in the period (a change added to a release, a
    /// dependency recorded…), in order; they are not among `fields`.
    async fn links(&self) -> Vec<LinkEvent> {
        self.0.links.iter().cloned().map(LinkEvent).collect()
    }
    /// The fields whose value at the end differs from the start, by name. The object's own
    /// `id` and row bookkeeping (`updatedAt`, `version`) are left out.
    async fn fields(&self) -> Vec<FieldDiff> {
        self.0.fields().into_iter().map(FieldDiff).collect()
    }
}

/// A link between two objects made or undone.
#[derive(async_graphql::Description)]
pub struct LinkEvent(entity::audit_event::Model);

#[Object(use_type_description)]
impl LinkEvent {
    /// What was done, e.g. `CHANGE_ADDED` or `DEPENDENCY_REMOVED`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The link, as made (or as it was, when undone): its fields by API name, references
    /// as global IDs, e.g. `{"changeId": "Q2hhbmdlOjE", "releaseId": "UmVsZWFzZTox"}`.
    async fn link(&self) -> Json<Value> {
        let image = self.0.after.as_ref().or(self.0.before.as_ref());
        let fields = image
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (camel(k), shown(k, v).map_or(Value::Null, |j| j.0)))
            .collect();
        Json(Value::Object(fields))
    }
}

/// One field of an object at the start and at the end of a period.
#[derive(async_graphql::Description)]
pub struct FieldDiff(history::FieldDiff);

#[Object(use_type_description)]
impl FieldDiff {
    /// The field, named as in the API where it is a scalar field (`plannedStart`); a
    /// reference to another object is named by its ID (`projectId`, `requestedById`).
    async fn field(&self) -> String {
        camel(&self.0.field)
    }
    /// Its value at the start of the period; null when it had none or the object did not
    /// exist yet. References are global IDs.
    async fn before(&self) -> Option<Json<Value>> {
        shown(&self.0.field, &self.0.before)
    }
    /// Its value at the end of the period; null when it has none or the object is gone.
    async fn after(&self) -> Option<Json<Value>> {
        shown(&self.0.field, &self.0.after)
    }
}

/// A page of a portfolio diff: objects by type, then by creation.
#[derive(async_graphql::Description)]
pub struct EntityDiffConnection {
    pub items: Vec<history::EntityDiff>,
    pub has_next_page: bool,
}

#[Object(use_type_description)]
impl EntityDiffConnection {
    /// The objects that changed, with their differences.
    async fn nodes(&self) -> Vec<EntityDiff> {
        self.items.iter().cloned().map(EntityDiff).collect()
    }
    /// Whether another page follows (ask for it with `after: endCursor`).
    async fn has_next_page(&self) -> bool {
        self.has_next_page
    }
    /// The cursor of the page's last object.
    async fn end_cursor(&self) -> Option<String> {
        self.items
            .last()
            .map(|d| cursor(&(d.entity_type.clone(), d.entity_id)))
    }
}

/// The global ID of a row of an audited type.
fn global(entity_type: &str, id: i64) -> ID {
    match Kind::from_name(entity_type) {
        Some(kind) => encode(kind, id),
        None => ID(format!("{entity_type}:{id}")),
    }
}

/// `snake_case` to `camelCase`.
fn camel(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The object a stored reference points to, by the field's API name (images written by
/// `serde` name some fields in camelCase already).
fn referenced(field: &str) -> Option<Kind> {
    Some(match camel(field).as_str() {
        "projectId" => Kind::Project,
        "requestedById" | "reviewedById" | "ownerId" | "managerId" | "personId" | "approverId" => {
            Kind::Person
        }
        "modelId" => Kind::ChangeModel,
        "previousId" | "releaseId" => Kind::Release,
        "processId" => Kind::Process,
        "serviceId" | "dependsOnId" => Kind::Service,
        "offeringId" => Kind::ServiceOffering,
        "partnerId" => Kind::Partner,
        "changeId" => Kind::Change,
        "windowId" => Kind::BlackoutWindow,
        _ => return None,
    })
}

/// A stored value as the API shows it: references as global IDs, null as absent.
fn shown(field: &str, value: &Value) -> Option<Json<Value>> {
    match (referenced(field), value) {
        (_, Value::Null) => None,
        (Some(kind), Value::Number(n)) => {
            n.as_i64().map(|id| Json(Value::String(encode(kind, id).0)))
        }
        _ => Some(Json(value.clone())),
    }
}

const CURSOR_PREFIX: &str = "diff:";

/// The opaque cursor of a diff's entry.
fn cursor((entity_type, id): &DiffCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{entity_type}:{id}"))
}

/// Reads a cursor given back by a client.
pub fn decode_cursor(text: &str) -> AppResult<DiffCursor> {
    let bad = || AppError::bad_input(format!("`after` is not a cursor of this diff: {text}"));
    let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let rest = raw.strip_prefix(CURSOR_PREFIX).ok_or_else(bad)?;
    let (ty, id) = rest.rsplit_once(':').ok_or_else(bad)?;
    Ok((ty.to_owned(), id.parse().map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_read_as_api_names_and_references_as_global_ids() {
        assert_eq!(camel("planned_start"), "plannedStart");
        assert_eq!(camel("status"), "status");
        assert_eq!(
            shown("project_id", &serde_json::json!(3)).map(|j| j.0),
            Some(Value::String(encode(Kind::Project, 3).0))
        );
        assert_eq!(shown("title", &Value::Null), None);
    }

    #[test]
    fn a_cursor_reads_back_as_the_entry_it_was_made_from() {
        let at = ("Change".to_owned(), 42);
        assert_eq!(decode_cursor(&cursor(&at)).ok(), Some(at));
        assert!(decode_cursor("bm90IGEgY3Vyc29y").is_err());
        assert!(decode_cursor("%%%").is_err());
    }
}
