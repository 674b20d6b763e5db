//! The portfolio's history, read back from the audit trail: what changed between two
//! instants, entity by entity and field by field.
//!
//! Every write appends an audit event holding the row's image before and after it, in the
//! write's own transaction, so the trail is a complete record of the stored state over time.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, Order, Query};
use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value};

use super::sql::Binds;
use crate::error::AppResult;

/// Fields a diff leaves out: the row's id (the entity's, which never changes) and what
/// every write touches, which says only that something changed.
const BOOKKEEPING: [&str; 3] = ["id", "updated_at", "version"];

/// Actions whose images are a link between two objects (a release and a change, a service
/// and a partner…), not the row of the object the event is filed under: a diff folds the
/// row images and lists these events as they are.
pub const LINK_ACTIONS: [&str; 8] = [
    "CHANGE_ADDED",
    "CHANGE_REMOVED",
    "SERVICE_ADDED",
    "SERVICE_REMOVED",
    "PARTNER_LINKED",
    "PARTNER_UNLINKED",
    "DEPENDENCY_ADDED",
    "DEPENDENCY_REMOVED",
];

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
    /// Only links changed: the row itself did not (`before` and `after` unknown, no fields).
    pub unchanged_row: bool,
    /// Links made or undone in the period (see [`LINK_ACTIONS`]), in order.
    pub links: Vec<audit_event::Model>,
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
        self.after.is_none() && !self.unchanged_row
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
/// entities with their first and last row events, then those events' images with the
/// page's link events).
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
    // The id of an event holding a row image; null for a link.
    let row_event = Expr::case(
        col(audit_event::Column::Action).is_not_in(LINK_ACTIONS),
        col(audit_event::Column::Id),
    )
    .finally(Expr::null());
    let select = Query::select()
        .column(audit_event::Column::EntityType)
        .column(audit_event::Column::EntityId)
        .expr_as(
            Func::count(col(audit_event::Column::Id)),
            Alias::new("events"),
        )
        .expr_as(Func::min(row_event.clone()), Alias::new("first_id"))
        .expr_as(Func::max(row_event), Alias::new("last_id"))
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
            row.try_get::<Option<i64>>("", "first_id")?,
            row.try_get::<Option<i64>>("", "last_id")?,
        ));
    }
    if page.is_empty() {
        return Ok(Vec::new());
    }
    // The row images at both ends, and every link event of the page's objects in the period.
    let ends: Vec<i64> = page.iter().flat_map(|p| [p.3, p.4]).flatten().collect();
    let mut of_page = Condition::any();
    for (ty, id, ..) in &page {
        of_page = of_page.add(
            Condition::all()
                .add(audit_event::Column::EntityType.eq(ty.clone()))
                .add(audit_event::Column::EntityId.eq(*id)),
        );
    }
    let events = audit_event::Entity::find()
        .filter(
            Condition::any()
                .add(audit_event::Column::Id.is_in(ends))
                .add(
                    Condition::all()
                        .add(of_page)
                        .add(audit_event::Column::Action.is_in(LINK_ACTIONS))
                        .add(audit_event::Column::At.gt(scope.from))
                        .add(audit_event::Column::At.lte(scope.to)),
                ),
        )
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?;
    let by_id: HashMap<i64, &audit_event::Model> = events.iter().map(|e| (e.id, e)).collect();
    let mut links: HashMap<(String, i64), Vec<audit_event::Model>> = HashMap::new();
    for e in events
        .iter()
        .filter(|e| LINK_ACTIONS.contains(&e.action.as_str()))
    {
        links
            .entry((e.entity_type.clone(), e.entity_id))
            .or_default()
            .push(e.clone());
    }
    let mut out = Vec::with_capacity(page.len());
    for (entity_type, entity_id, n, first, last) in page {
        let links = links
            .remove(&(entity_type.clone(), entity_id))
            .unwrap_or_default();
        let (first, last) = (
            first.and_then(|i| by_id.get(&i)),
            last.and_then(|i| by_id.get(&i)),
        );
        // An object with only link events in the period kept its row as it was: its ends
        // are its first and last links, and no image.
        let ends = match (first, last) {
            (Some(first), Some(last)) => Some((first, last)),
            _ => None,
        };
        let (Some(first_event), Some(last_event)) = (
            ends.map(|e| *e.0).or(links.first()),
            ends.map(|e| *e.1).or(links.last()),
        ) else {
            continue;
        };
        out.push(EntityDiff {
            first_at: Ord::min(
                first_event.at,
                links.first().map_or(first_event.at, |l| l.at),
            ),
            last_at: Ord::max(last_event.at, links.last().map_or(last_event.at, |l| l.at)),
            first_action: first_event.action.clone(),
            last_action: last_event.action.clone(),
            before: ends.and_then(|e| e.0.before.clone()),
            after: ends.and_then(|e| e.1.after.clone()),
            unchanged_row: ends.is_none(),
            entity_type,
            entity_id,
            events: n,
            links,
        });
    }
    Ok(out)
}

/// The row of each of `keys` (entity type, id) as it stood at `at`: the `after` image of its
/// last row event at or before `at` — `None` when that event deleted it. Keys without an
/// event by then (not created yet) are absent. One statement for any number of keys.
pub async fn images_at<C: ConnectionTrait>(
    db: &C,
    at: DateTime<Utc>,
    keys: &[(String, i64)],
) -> AppResult<HashMap<(String, i64), Option<Value>>> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let mut b = Binds::new(db.get_database_backend());
    let at = b.bind(at);
    let pairs: Vec<String> = keys
        .iter()
        .map(|(t, id)| {
            let (t, id) = (b.bind(t.clone()), b.bind(*id));
            format!("(entity_type = {t} AND entity_id = {id})")
        })
        .collect();
    let links = LINK_ACTIONS
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT entity_type, entity_id, after FROM ( \
           SELECT entity_type, entity_id, after, ROW_NUMBER() OVER ( \
             PARTITION BY entity_type, entity_id ORDER BY at DESC, id DESC) AS rn \
           FROM audit_event \
           WHERE at <= {at} AND action NOT IN ({links}) AND ({}) \
         ) AS t WHERE rn = 1",
        pairs.join(" OR ")
    );
    let rows = db.query_all_raw(b.statement(sql)).await?;
    for row in rows {
        out.insert(
            (
                row.try_get("", "entity_type")?,
                row.try_get("", "entity_id")?,
            ),
            row.try_get::<Option<Value>>("", "after")?,
        );
    }
    Ok(out)
}

/// Which changes belonged to which releases at `at`, from the releases' `CHANGE_ADDED` and
/// `CHANGE_REMOVED` events: (release, change) pairs, for the releases `releases` or the
/// changes `changes`. One statement.
pub async fn memberships_at<C: ConnectionTrait>(
    db: &C,
    at: DateTime<Utc>,
    releases: &[i64],
    changes: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    if releases.is_empty() && changes.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let change_of = match backend {
        sea_orm::DbBackend::Postgres => "CAST(COALESCE(after, before)->>'change_id' AS BIGINT)",
        _ => "json_extract(COALESCE(after, before), '$.change_id')",
    };
    let mut b = Binds::new(backend);
    let at = b.bind(at);
    let mut which = Vec::new();
    if !releases.is_empty() {
        which.push(b.ids_in("entity_id", releases));
    }
    if !changes.is_empty() {
        which.push(b.ids_in(change_of, changes));
    }
    let sql = format!(
        "SELECT entity_id, action, {change_of} AS change_id FROM audit_event \
         WHERE entity_type = 'Release' AND action IN ('CHANGE_ADDED', 'CHANGE_REMOVED') \
           AND at <= {at} AND ({}) ORDER BY id",
        which.join(" OR ")
    );
    let rows = db.query_all_raw(b.statement(sql)).await?;
    let mut member: std::collections::BTreeMap<(i64, i64), bool> = Default::default();
    for row in rows {
        let release: i64 = row.try_get("", "entity_id")?;
        let change: i64 = row.try_get("", "change_id")?;
        let action: String = row.try_get("", "action")?;
        member.insert((release, change), action == "CHANGE_ADDED");
    }
    Ok(member
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(k, _)| k)
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
            unchanged_row: false,
            links: Vec::new(),
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
