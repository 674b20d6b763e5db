//! Blackout windows in a period, with the services they cover, and the changes planned
//! into them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{blackout_window, blackout_window_service, change, change_service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppResult;

/// Most windows one period query returns.
pub const MAX_WINDOWS: u64 = 500;

/// A blackout window and the services it covers (none: every service).
#[derive(Clone, Debug)]
pub struct Window {
    pub model: blackout_window::Model,
    pub services: Vec<i64>,
}

impl Window {
    /// Whether the window covers any of `services`.
    pub fn covers_any(&self, services: &[i64]) -> bool {
        self.services.is_empty() || services.iter().any(|s| self.services.contains(s))
    }

    /// Whether the window overlaps `[start, end)`.
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.model.starts_at < end && self.model.ends_at > start
    }
}

/// Windows overlapping `[from, to)`, by start, that cover any of `services` when given.
pub async fn overlapping<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    services: Option<&[i64]>,
) -> AppResult<Vec<Window>> {
    let windows = blackout_window::Entity::find()
        .filter(blackout_window::Column::StartsAt.lt(to))
        .filter(blackout_window::Column::EndsAt.gt(from))
        .order_by_asc(blackout_window::Column::StartsAt)
        .order_by_asc(blackout_window::Column::Id)
        .limit(MAX_WINDOWS)
        .all(db)
        .await?;
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let links = blackout_window_service::Entity::find()
        .filter(blackout_window_service::Column::WindowId.is_in(windows.iter().map(|w| w.id)))
        .all(db)
        .await?;
    let mut covered: HashMap<i64, Vec<i64>> = HashMap::new();
    for l in links {
        covered.entry(l.window_id).or_default().push(l.service_id);
    }
    Ok(windows
        .into_iter()
        .map(|model| Window {
            services: covered.remove(&model.id).unwrap_or_default(),
            model,
        })
        .filter(|w| services.is_none_or(|s| w.covers_any(s)))
        .collect())
}

/// The services each of `changes` touches, in one statement.
pub async fn services_of<C: ConnectionTrait>(
    db: &C,
    changes: &[i64],
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    if changes.is_empty() {
        return Ok(out);
    }
    let links = change_service::Entity::find()
        .filter(change_service::Column::ChangeId.is_in(changes.iter().copied()))
        .all(db)
        .await?;
    for l in links {
        out.entry(l.change_id).or_default().push(l.service_id);
    }
    Ok(out)
}

/// Pairs (change, window) of planned changes whose window overlaps a blackout window
/// covering one of their services.
pub async fn violations<C: ConnectionTrait>(
    db: &C,
    changes: &[change::Model],
    windows: &[Window],
) -> AppResult<Vec<(i64, i64)>> {
    if windows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = changes.iter().map(|c| c.id).collect();
    let services = services_of(db, &ids).await?;
    let mut out = Vec::new();
    for c in changes {
        let (Some(start), Some(end)) = (c.planned_start, c.planned_end) else {
            continue;
        };
        let touched = services.get(&c.id).map(Vec::as_slice).unwrap_or_default();
        for w in windows {
            if w.overlaps(start, end) && w.covers_any(touched) {
                out.push((c.id, w.model.id));
            }
        }
    }
    Ok(out)
}
