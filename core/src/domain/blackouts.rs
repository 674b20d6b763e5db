//! Blackout windows (ADMIN): periods in which STANDARD and NORMAL changes may not be
//! scheduled for the services they cover (every service when they name none). EMERGENCY
//! changes may; the forward schedule of change marks them.

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, Set};

use super::rules;
use super::validate::{self, MAX_DESCRIPTION, MAX_TITLE};
use super::{Actor, Governance, Patch, Work, expect_version, load, load_all, save};
use crate::error::{AppError, AppResult};
use crate::store::blackouts::{self, Exposure};

/// A new blackout window.
#[derive(Clone, Debug)]
pub struct NewBlackout {
    pub name: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub service_ids: Vec<i64>,
}

/// Edits of a blackout window.
#[derive(Clone, Debug, Default)]
pub struct BlackoutPatch {
    pub name: Patch<String>,
    pub reason: Patch<String>,
    pub starts_at: Patch<DateTime<Utc>>,
    pub ends_at: Patch<DateTime<Utc>>,
    /// The covered services, replacing the current ones; empty or null: every service.
    pub service_ids: Patch<Vec<i64>>,
}

fn period(start: DateTime<Utc>, end: DateTime<Utc>) -> AppResult<()> {
    if start >= end {
        return Err(AppError::bad_input(format!(
            "`startsAt` ({}) must be before `endsAt` ({})",
            start.to_rfc3339(),
            end.to_rfc3339()
        )));
    }
    Ok(())
}

async fn cover(w: &Work, window_id: i64, service_ids: &[i64]) -> AppResult<()> {
    validate::list("serviceIds", service_ids)?;
    let ids = validate::distinct(service_ids);
    load_all::<service::Entity>(w, &ids, "serviceIds").await?;
    blackout_window_service::Entity::delete_many()
        .filter(blackout_window_service::Column::WindowId.eq(window_id))
        .exec(w.tx())
        .await?;
    if !ids.is_empty() {
        blackout_window_service::Entity::insert_many(ids.iter().map(|s| {
            blackout_window_service::ActiveModel {
                window_id: Set(window_id),
                service_id: Set(*s),
            }
        }))
        .exec_without_returning(w.tx())
        .await?;
    }
    Ok(())
}

/// Refuses to schedule change `c` into `[start, end)` when a blackout window covering one
/// of its services overlaps it, unless the change is an EMERGENCY.
pub(super) async fn check_schedule(
    w: &Work,
    c: &change::Model,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> AppResult<()> {
    if c.change_type == ChangeType::Emergency {
        return Ok(());
    }
    let services = blackouts::services_of(w.tx(), &[c.id])
        .await?
        .remove(&c.id)
        .unwrap_or_default();
    let exposure = Exposure {
        services,
        start,
        end,
    };
    match blackouts::freeze(w.tx(), exposure).await? {
        Some(f) => Err(rules::frozen(
            &format!(
                "schedule {} change {} into {} – {}",
                c.change_type.as_str(),
                c.number,
                start.to_rfc3339(),
                end.to_rfc3339()
            ),
            &f,
        )),
        None => Ok(()),
    }
}

impl Governance {
    /// Declares a blackout window (ADMIN).
    pub async fn create_blackout_window(
        &self,
        actor: &Actor,
        input: NewBlackout,
    ) -> AppResult<blackout_window::Model> {
        actor.admin("declaring a blackout window")?;
        let name = validate::text("name", &input.name, MAX_TITLE)?;
        let reason = validate::text("reason", &input.reason, MAX_DESCRIPTION)?;
        period(input.starts_at, input.ends_at)?;
        let w = self.start(actor).await?;
        let b = blackout_window::ActiveModel {
            name: Set(name),
            reason: Set(reason),
            starts_at: Set(input.starts_at),
            ends_at: Set(input.ends_at),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        cover(&w, b.id, &input.service_ids).await?;
        w.audit("CREATED", "BlackoutWindow", b.id, None, Some(&b))
            .await?;
        w.commit(&self.bus).await?;
        Ok(b)
    }

    /// Changes a blackout window (ADMIN). Changes already scheduled are not moved.
    pub async fn update_blackout_window(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: BlackoutPatch,
    ) -> AppResult<blackout_window::Model> {
        actor.admin("changing a blackout window")?;
        let name = patch.name.required_text("name", MAX_TITLE)?;
        let reason = patch.reason.required_text("reason", MAX_DESCRIPTION)?;
        let starts = patch.starts_at.required("startsAt")?;
        let ends = patch.ends_at.required("endsAt")?;
        let w = self.start(actor).await?;
        let before = load::<blackout_window::Entity>(&w, id, "id").await?;
        expect_version::<blackout_window::Entity>(expected, before.version, id)?;
        period(
            starts.unwrap_or(before.starts_at),
            ends.unwrap_or(before.ends_at),
        )?;
        let mut am: blackout_window::ActiveModel = Default::default();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(r) = reason {
            am.reason = Set(r);
        }
        if let Some(s) = starts {
            am.starts_at = Set(s);
        }
        if let Some(e) = ends {
            am.ends_at = Set(e);
        }
        if patch.service_ids.is_given() {
            cover(&w, id, &patch.service_ids.apply(None).unwrap_or_default()).await?;
        }
        let after = save::<blackout_window::Entity, _>(&w, am, id, before.version).await?;
        w.audit("UPDATED", "BlackoutWindow", id, Some(&before), Some(&after))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Lifts a blackout window (ADMIN); returns it as it was.
    pub async fn delete_blackout_window(
        &self,
        actor: &Actor,
        id: i64,
    ) -> AppResult<blackout_window::Model> {
        actor.admin("lifting a blackout window")?;
        let w = self.start(actor).await?;
        let before = load::<blackout_window::Entity>(&w, id, "id").await?;
        before.clone().delete(w.tx()).await?;
        w.audit::<blackout_window::Model>("DELETED", "BlackoutWindow", id, Some(&before), None)
            .await?;
        w.commit(&self.bus).await?;
        Ok(before)
    }
}
