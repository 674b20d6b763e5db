//! The portfolio's history, read back from the audit trail: what changed between two
//! instants, entity by entity and field by field.
//!
//! Every write appends an audit event holding the row's image before and after it, in the
//! write's own transaction, so the trail is a complete record of the stored state over time.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Map, Value};

use crate::error::AppResult;

/// Fields a diff leaves out: the row's id (the entity's, which never changes) and what
/// every write touches, which says only that something changed.
const BOOKKEEPING: [&str; 3] = ["id", "updated_at", "version"];

/// Which entities a diff covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffScope {
    /// Events after this instant…
    pub from: DateTime<Utc>,
    /// …up to and including this one.
    pub to: DateTime<Utc>,
    /// Only these entity types (GraphQL type names); all when `None`.
    pub entity_types: Option<Vec<String>>,
    /// Entity types the viewer may not see.
    pub hidden: Vec<String>,
}

/// Where a page of a diff starts: after this (entity type, entity id).
pub type DiffCursor = (String, i64);

/// One entity that changed between two instants, its events folded into one difference.
#[derive(Clone, Debug, PartialEq)]
pub struct EntityDiff {
    pub entity_type: String,
    pub entity_id: i64,
    /// Its audit events in the period.
    pub events: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// The action of its first event in the period (`CREATED` when it was created then).
    pub first_action: String,
    /// The action of its last event in the period.
    pub last_action: String,
    /// Its image before the first event: `None` when it did not exist yet (or the trail
    /// kept no image).
    pub before: Option<Value>,
    /// Its image after the last event: `None` when it no longer exists.
    pub after: Option<Value>,
}

/// One field of an entity, at the start and at the end of a period.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDiff {
    /// The stored field's name, e.g. `planned_start`.
    pub field: String,
    pub before: Value,
    pub after: Value,
}

impl EntityDiff {
    /// Created in the period.
    pub fn created(&self) -> bool {
        self.first_action == "CREATED" && self.before.is_none()
    }

    /// Gone by the end of the period.
    pub fn deleted(&self) -> bool {
        self.after.is_none()
    }

    /// The fields whose value differs between the start and the end of the period (all the
    /// fields an entity created or deleted in it has), by name, without its id and
    /// bookkeeping.
    pub fn fields(&self) -> Vec<FieldDiff> {
        let empty = Map::new();
        let object = |v: &Option<Value>| v.as_ref().and_then(Value::as_object).cloned();
        let (before, after) = (object(&self.before), object(&self.after));
        let (b, a) = (
            before.as_ref().unwrap_or(&empty),
            after.as_ref().unwrap_or(&empty),
        );
        let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| !BOOKKEEPING.contains(&n.as_str()))
            .filter_map(|n| {
                let (was, is) = (
                    b.get(n).cloned().unwrap_or(Value::Null),
                    a.get(n).cloned().unwrap_or(Value::Null),
                );
                (was != is).then(|| FieldDiff {
                    field: n.clone(),
                    before: was,
                    after: is,
                })
            })
            .collect()
    }
}

/// A page of the entities with audit events in `scope`'s period, by entity type then id,
/// after `cursor`, at most `limit`; two statements whatever the size of the trail (the
/// entities with their first and last events, then those events' images).
pub async fn diff<C: ConnectionTrait>(
    db: &C,
    scope: &DiffScope,
    cursor: Option<&DiffCursor>,
    limit: u64,
) -> AppResult<Vec<EntityDiff>> {
    let col = |c: audit_event::Column| Expr::col((audit_event::Entity, c));
    let mut cond = Condition::all()
        .add(col(audit_event::Column::At).gt(scope.from))
        .add(col(audit_event::Column::At).lte(scope.to));
    if let Some(types) = &scope.entity_types {
        cond = cond.add(col(audit_event::Column::EntityType).is_in(types.clone()));
    }
    if !scope.hidden.is_empty() {
        cond = cond.add(col(audit_event::Column::EntityType).is_not_in(scope.hidden.clone()));
    }
    if let Some((ty, id)) = cursor {
        cond = cond.add(
            Condition::any()
                .add(col(audit_event::Column::EntityType).gt(ty.clone()))
                .add(
                    Condition::all()
                        .add(col(audit_event::Column::EntityType).eq(ty.clone()))
                        .add(col(audit_event::Column::EntityId).gt(*id)),
                ),
        );
    }
    let select = Query::select()
        .column(audit_event::Column::EntityType)
        .column(audit_event::Column::EntityId)
        .expr_as(
            Func::count(col(audit_event::Column::Id)),
            Alias::new("events"),
        )
        .expr_as(
            Func::min(col(audit_event::Column::Id)),
            Alias::new("first_id"),
        )
        .expr_as(
            Func::max(col(audit_event::Column::Id)),
            Alias::new("last_id"),
        )
        .from(audit_event::Entity)
        .cond_where(cond)
        .group_by_col(audit_event::Column::EntityType)
        .group_by_col(audit_event::Column::EntityId)
        .order_by(audit_event::Column::EntityType, Order::Asc)
        .order_by(audit_event::Column::EntityId, Order::Asc)
        .limit(limit)
        .to_owned();
    let rows = db.query_all(&select).await?;
    let mut page = Vec::with_capacity(rows.len());
    for row in &rows {
        page.push((
            row.try_get::<String>("", "entity_type")?,
            row.try_get::<i64>("", "entity_id")?,
            row.try_get::<i64>("", "events")?,
            row.try_get::<i64>("", "first_id")?,
            row.try_get::<i64>("", "last_id")?,
        ));
    }
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = page.iter().flat_map(|p| [p.3, p.4]).collect();
    let events: std::collections::HashMap<i64, audit_event::Model> = audit_event::Entity::find()
        .filter(audit_event::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok(page
        .into_iter()
        .filter_map(|(entity_type, entity_id, n, first, last)| {
            let (first, last) = (events.get(&first)?, events.get(&last)?);
            Some(EntityDiff {
                entity_type,
                entity_id,
                events: n,
                first_at: first.at,
                last_at: last.at,
                first_action: first.action.clone(),
                last_action: last.action.clone(),
                before: first.before.clone(),
                after: last.after.clone(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn folded(first_action: &str, before: Option<Value>, after: Option<Value>) -> EntityDiff {
        EntityDiff {
            entity_type: "Change".into(),
            entity_id: 1,
            events: 2,
            first_at: DateTime::<Utc>::UNIX_EPOCH,
            last_at: DateTime::<Utc>::UNIX_EPOCH,
            first_action: first_action.into(),
            last_action: "X".into(),
            before,
            after,
        }
    }

    #[test]
    fn a_diff_names_the_fields_that_differ_between_the_ends_without_bookkeeping() {
        let d = folded(
            "SUBMITTED",
            Some(json!({ "status": "DRAFT", "title": "A", "version": 1, "risk": "LOW" })),
            Some(json!({ "status": "CLOSED", "title": "A", "version": 5, "risk": null })),
        );
        let fields: Vec<(String, Value, Value)> = d
            .fields()
            .into_iter()
            .map(|f| (f.field, f.before, f.after))
            .collect();
        assert_eq!(
            fields,
            [
                ("risk".to_owned(), json!("LOW"), Value::Null),
                ("status".to_owned(), json!("DRAFT"), json!("CLOSED")),
            ]
        );
        assert!(!d.created() && !d.deleted());
    }

    #[test]
    fn an_entity_created_in_the_period_has_every_field_new_and_a_deleted_one_every_field_gone() {
        let created = folded("CREATED", None, Some(json!({ "name": "N", "version": 1 })));
        assert!(created.created());
        assert_eq!(created.fields().len(), 1);
        assert_eq!(created.fields()[0].after, json!("N"));
        let deleted = folded("UPDATED", Some(json!({ "name": "N" })), None);
        assert!(deleted.deleted());
        assert_eq!(deleted.fields()[0].before, json!("N"));
    }
}
