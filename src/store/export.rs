//! CSV exports for reporting tools: every change (or release) matching a filter, streamed in chunks of
//! [`CHUNK`] rows (keyset by id), so memory stays flat however many rows there are.

use std::collections::HashMap;

use entity::{change, person, project, release};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::listing::{ChangeFilter, ChangeScope, Filter, ReleaseFilter, ReleaseScope};
use super::lookup::by_ids;
use crate::error::{AppError, AppResult};

/// Rows per database round trip and per chunk of output.
pub const CHUNK: u64 = 1000;

const CHANGE_HEADER: [&str; 16] = [
    "number",
    "title",
    "type",
    "category",
    "risk",
    "status",
    "outcome",
    "requested_by",
    "project",
    "planned_start",
    "planned_end",
    "submitted_at",
    "authorized_at",
    "closed_at",
    "created_at",
    "updated_at",
];

/// Where an export stands between chunks.
pub struct ChangeExport {
    db: DatabaseConnection,
    filter: ChangeFilter,
    after: i64,
    started: bool,
    done: bool,
}

impl ChangeExport {
    /// An export of the changes matching `filter`, in creation (id) order.
    pub fn new(db: DatabaseConnection, filter: ChangeFilter) -> Self {
        Self {
            db,
            filter,
            after: 0,
            started: false,
            done: false,
        }
    }

    /// The next chunk of CSV (the header first), or `None` when every row has been sent.
    pub async fn next_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let rows = change::Entity::find()
            .filter(self.filter.condition(ChangeScope::Root))
            .filter(change::Column::Id.gt(self.after))
            .order_by_asc(change::Column::Id)
            .limit(CHUNK)
            .all(&self.db)
            .await?;
        self.done = (rows.len() as u64) < CHUNK;
        let people: Vec<i64> = rows.iter().map(|c| c.requested_by_id).collect();
        let projects: Vec<i64> = rows.iter().filter_map(|c| c.project_id).collect();
        let people: HashMap<i64, person::Model> = if people.is_empty() {
            HashMap::new()
        } else {
            by_ids::<person::Entity, _>(&self.db, &people).await?
        };
        let projects: HashMap<i64, project::Model> = if projects.is_empty() {
            HashMap::new()
        } else {
            by_ids::<project::Entity, _>(&self.db, &projects).await?
        };
        let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 200));
        let csv_err = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        if !self.started {
            out.write_record(CHANGE_HEADER).map_err(csv_err)?;
            self.started = true;
        }
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339()).unwrap_or_default()
        };
        for c in &rows {
            out.write_record([
                c.number.as_str(),
                c.title.as_str(),
                c.change_type.as_str(),
                c.category.as_str(),
                c.risk.as_str(),
                c.status.as_str(),
                c.outcome.map(|o| o.as_str()).unwrap_or(""),
                people
                    .get(&c.requested_by_id)
                    .map(|p| p.email.as_str())
                    .unwrap_or(""),
                c.project_id
                    .and_then(|p| projects.get(&p))
                    .map(|p| p.code.as_str())
                    .unwrap_or(""),
                &time(c.planned_start),
                &time(c.planned_end),
                &time(c.submitted_at),
                &time(c.authorized_at),
                &time(c.closed_at),
                &c.created_at.to_rfc3339(),
                &c.updated_at.to_rfc3339(),
            ])
            .map_err(csv_err)?;
        }
        if let Some(last) = rows.last() {
            self.after = last.id;
        }
        out.into_inner()
            .map(Some)
            .map_err(|e| AppError::Internal(format!("csv: {e}")))
    }
}

const RELEASE_HEADER: [&str; 10] = [
    "name",
    "version",
    "type",
    "status",
    "project",
    "previous",
    "planned_date",
    "deployed_at",
    "created_at",
    "updated_at",
];

/// Where a release export stands between chunks.
pub struct ReleaseExport {
    db: DatabaseConnection,
    filter: ReleaseFilter,
    after: i64,
    started: bool,
    done: bool,
}

impl ReleaseExport {
    /// An export of the releases matching `filter`, in creation (id) order.
    pub fn new(db: DatabaseConnection, filter: ReleaseFilter) -> Self {
        Self {
            db,
            filter,
            after: 0,
            started: false,
            done: false,
        }
    }

    /// The next chunk of CSV (the header first), or `None` when every row has been sent.
    pub async fn next_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let rows = release::Entity::find()
            .filter(self.filter.condition(ReleaseScope::Root))
            .filter(release::Column::Id.gt(self.after))
            .order_by_asc(release::Column::Id)
            .limit(CHUNK)
            .all(&self.db)
            .await?;
        self.done = (rows.len() as u64) < CHUNK;
        let projects: Vec<i64> = rows.iter().filter_map(|r| r.project_id).collect();
        let previous: Vec<i64> = rows.iter().filter_map(|r| r.previous_id).collect();
        let projects: HashMap<i64, project::Model> = if projects.is_empty() {
            HashMap::new()
        } else {
            by_ids::<project::Entity, _>(&self.db, &projects).await?
        };
        let previous: HashMap<i64, release::Model> = if previous.is_empty() {
            HashMap::new()
        } else {
            by_ids::<release::Entity, _>(&self.db, &previous).await?
        };
        let csv_err = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
        let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 120));
        if !self.started {
            out.write_record(RELEASE_HEADER).map_err(csv_err)?;
            self.started = true;
        }
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339()).unwrap_or_default()
        };
        for r in &rows {
            let prev = r
                .previous_id
                .and_then(|p| previous.get(&p))
                .map(|p| format!("{} {}", p.name, p.version))
                .unwrap_or_default();
            out.write_record([
                r.name.as_str(),
                r.version.as_str(),
                r.release_type.as_str(),
                r.status.as_str(),
                r.project_id
                    .and_then(|p| projects.get(&p))
                    .map(|p| p.code.as_str())
                    .unwrap_or(""),
                &prev,
                &time(r.planned_date),
                &time(r.deployed_at),
                &r.created_at.to_rfc3339(),
                &r.updated_at.to_rfc3339(),
            ])
            .map_err(csv_err)?;
        }
        if let Some(last) = rows.last() {
            self.after = last.id;
        }
        out.into_inner()
            .map(Some)
            .map_err(|e| AppError::Internal(format!("csv: {e}")))
    }
}
