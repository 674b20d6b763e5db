//! Blackout windows (change freezes).

use async_graphql::{Context, ID, MaybeUndefined, Object, Result};
use chrono::{DateTime, TimeZone, Utc};

use super::{ids, patch, patch_ids};
use crate::domain::{BlackoutPatch, NewBlackout};
use crate::error::AppError;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::graphql::{db, gov};
use crate::store::blackouts;

/// The part of `Query` for blackout windows (change freezes).
#[derive(Default)]
pub struct BlackoutsQuery;

#[Object]
impl BlackoutsQuery {
    /// Blackout windows (change freezes) overlapping a period, by start; at most 500.
    async fn blackout_windows(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the period; the distant past when omitted.")] from: Option<
            DateTime<Utc>,
        >,
        #[graphql(desc = "End of the period; the distant future when omitted.")] to: Option<
            DateTime<Utc>,
        >,
        #[graphql(desc = "Only windows covering this service (including those covering all).")]
        service_id: Option<ID>,
    ) -> Result<Vec<BlackoutWindow>> {
        let service = decode_opt(service_id.as_ref(), Kind::Service, "serviceId")?;
        // Open ends within the range both engines store (PostgreSQL's ends before chrono's).
        let from = from.unwrap_or(DateTime::UNIX_EPOCH);
        let to = to.unwrap_or_else(|| {
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
                .single()
                .unwrap_or(DateTime::UNIX_EPOCH)
        });
        if from > to {
            return Err(AppError::bad_input("`from` must not be after `to`").into());
        }
        let services = service.map(|s| vec![s]);
        let windows = blackouts::overlapping(db(ctx), from, to, services.as_deref()).await?;
        Ok(windows
            .into_iter()
            .map(|w| BlackoutWindow(w.model))
            .collect())
    }
}

/// The part of `Mutation` for blackout windows (change freezes).
#[derive(Default)]
pub struct BlackoutsMutation;

#[Object]
impl BlackoutsMutation {
    /// Declares a blackout window (a change freeze). ADMIN. STANDARD and NORMAL changes
    /// touching a covered service can no longer be scheduled into it (CONFLICT).
    async fn create_blackout_window(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "Why changes are frozen.")] reason: String,
        #[graphql(desc = "When it opens.")] starts_at: DateTime<Utc>,
        #[graphql(desc = "When it closes (after it opens).")] ends_at: DateTime<Utc>,
        #[graphql(desc = "The services it covers; none or omitted: every service.")]
        service_ids: Option<Vec<ID>>,
    ) -> Result<BlackoutWindow> {
        let input = NewBlackout {
            name,
            reason,
            starts_at,
            ends_at,
            service_ids: ids(
                &service_ids.unwrap_or_default(),
                Kind::Service,
                "serviceIds",
            )?,
        };
        let b = gov(ctx)
            .create_blackout_window(Viewer::of(ctx), input)
            .await?;
        Ok(BlackoutWindow(b))
    }

    /// Changes a blackout window. ADMIN. Changes already scheduled stay where they are;
    /// `ChangeSchedule.blackoutChanges` shows the ones that now fall into it.
    #[allow(clippy::too_many_arguments)]
    async fn update_blackout_window(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The window.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New reason.")] reason: MaybeUndefined<String>,
        #[graphql(desc = "New opening time.")] starts_at: MaybeUndefined<DateTime<Utc>>,
        #[graphql(desc = "New closing time.")] ends_at: MaybeUndefined<DateTime<Utc>>,
        #[graphql(
            desc = "The services it covers, replacing the current ones; empty or null: every service."
        )]
        service_ids: MaybeUndefined<Vec<ID>>,
    ) -> Result<BlackoutWindow> {
        let id = decode(&id, Kind::BlackoutWindow, "id")?;
        let services = patch_ids(service_ids, Kind::Service, "serviceIds")?;
        let p = BlackoutPatch {
            name: patch(name),
            reason: patch(reason),
            starts_at: patch(starts_at),
            ends_at: patch(ends_at),
            service_ids: services,
        };
        let b = gov(ctx)
            .update_blackout_window(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(BlackoutWindow(b))
    }

    /// Lifts a blackout window. ADMIN. Returns the ID it had.
    async fn delete_blackout_window(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The window.")] id: ID,
    ) -> Result<ID> {
        let row = decode(&id, Kind::BlackoutWindow, "id")?;
        gov(ctx)
            .delete_blackout_window(Viewer::of(ctx), row)
            .await?;
        Ok(id)
    }
}
