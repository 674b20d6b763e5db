//! Blackout windows in a period, with the services they cover, and the changes planned
//! into them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    blackout_window, blackout_window_service, change, change_service, release_change,
    release_service, service,
};
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

/// Work that must not run into a freeze: the services it touches and the period it runs.
#[derive(Clone, Debug)]
pub struct Exposure {
    pub services: Vec<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Exposure {
    /// Work on `services` that starts at `now` and lasts as long as its planned window
    /// (`start`, `end`), or a moment when it has none.
    pub fn from_now(
        services: Vec<i64>,
        now: DateTime<Utc>,
        planned: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    ) -> Self {
        let length = match planned {
            (Some(start), Some(end)) if end > start => end - start,
            _ => chrono::Duration::seconds(1),
        };
        Self {
            services,
            start: now,
            end: now + length,
        }
    }
}

/// What stops work in a freeze: the blackout window, and the first service of the work it
/// covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Freeze {
    pub window: blackout_window::Model,
    /// Whether the window covers every service (it names none).
    pub every_service: bool,
    /// The key of the service of the work it covers (`None` for work naming no service).
    pub service: Option<String>,
}

/// For each piece of work, the first blackout window (by start) overlapping its period and
/// covering one of its services: at most three statements however many pieces.
pub async fn freezes<C, K>(db: &C, work: &[(K, Exposure)]) -> AppResult<HashMap<K, Freeze>>
where
    C: ConnectionTrait,
    K: Clone + Eq + std::hash::Hash,
{
    let (Some(from), Some(to)) = (
        work.iter().map(|(_, w)| w.start).min(),
        work.iter().map(|(_, w)| w.end).max(),
    ) else {
        return Ok(HashMap::new());
    };
    let windows = overlapping(db, from, to, None).await?;
    freezes_among(db, &windows, work).await
}

/// [`freezes`] among `windows` already loaded (those overlapping every piece's period):
/// one statement to name the services, none when no window applies.
pub async fn freezes_among<C, K>(
    db: &C,
    windows: &[Window],
    work: &[(K, Exposure)],
) -> AppResult<HashMap<K, Freeze>>
where
    C: ConnectionTrait,
    K: Clone + Eq + std::hash::Hash,
{
    let mut found = Vec::new();
    for (key, exposure) in work {
        let hit = windows.iter().find_map(|w| {
            if !w.overlaps(exposure.start, exposure.end) {
                return None;
            }
            let covered = exposure
                .services
                .iter()
                .find(|s| w.services.is_empty() || w.services.contains(s))
                .copied();
            (covered.is_some() || w.services.is_empty()).then_some((w, covered))
        });
        if let Some((w, covered)) = hit {
            found.push((key.clone(), w, covered));
        }
    }
    let ids: Vec<i64> = found.iter().filter_map(|(_, _, s)| *s).collect();
    let keys: HashMap<i64, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        service::Entity::find()
            .filter(service::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.key))
            .collect()
    };
    Ok(found
        .into_iter()
        .map(|(key, w, covered)| {
            let freeze = Freeze {
                window: w.model.clone(),
                every_service: w.services.is_empty(),
                service: covered.and_then(|s| keys.get(&s).cloned()),
            };
            (key, freeze)
        })
        .collect())
}

/// [`freezes`] for one piece of work.
pub async fn freeze<C: ConnectionTrait>(db: &C, work: Exposure) -> AppResult<Option<Freeze>> {
    Ok(freezes(db, &[((), work)]).await?.remove(&()))
}

/// The services each release touches: its own and those of its changes, in three
/// statements for any number of releases.
pub async fn services_of_releases<C: ConnectionTrait>(
    db: &C,
    releases: &[i64],
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    if releases.is_empty() {
        return Ok(out);
    }
    let own = release_service::Entity::find()
        .filter(release_service::Column::ReleaseId.is_in(releases.iter().copied()))
        .all(db)
        .await?;
    let members = release_change::Entity::find()
        .filter(release_change::Column::ReleaseId.is_in(releases.iter().copied()))
        .all(db)
        .await?;
    let changes: Vec<i64> = members.iter().map(|m| m.change_id).collect();
    let touched = services_of(db, &changes).await?;
    let through_changes = members.iter().flat_map(|m| {
        let services = touched
            .get(&m.change_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        services.iter().map(|s| (m.release_id, *s))
    });
    for (release, service) in own
        .iter()
        .map(|l| (l.release_id, l.service_id))
        .chain(through_changes)
    {
        let services = out.entry(release).or_default();
        if !services.contains(&service) {
            services.push(service);
        }
    }
    Ok(out)
}
