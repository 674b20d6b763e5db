//! Blackout windows: periods in which only emergency changes may be scheduled.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::blackout_window;

use super::{Change, Service, wrapper};
use crate::graphql::children;
use crate::graphql::ids::{Kind, encode};
use crate::store::relations;

wrapper!(
    /// A blackout window (a change freeze): STANDARD and NORMAL changes may not be scheduled
    /// into it for the services it covers — every service when it names none. EMERGENCY
    /// changes may; `ChangeSchedule.blackoutChanges` marks them.
    BlackoutWindow, blackout_window::Model
);

#[Object(use_type_description)]
impl BlackoutWindow {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::BlackoutWindow, self.0.id)
    }
    /// Display name, e.g. "Quarter-end freeze".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Why changes are frozen.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// When the window opens.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it closes (exclusive).
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// The services it covers; empty when it covers every service.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<Service>> {
        let rows = children(ctx, relations::services_of_window(), self.0.id).await?;
        Ok(rows.iter().cloned().map(Service).collect())
    }
    /// Whether it covers every service (it names none).
    async fn covers_all_services(&self, ctx: &Context<'_>) -> Result<bool> {
        let rows = children(ctx, relations::services_of_window(), self.0.id).await?;
        Ok(rows.is_empty())
    }
    /// When it was declared.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A change planned into a blackout window that covers one of its services (an emergency
/// change, or one scheduled before the window was declared).
#[derive(SimpleObject, Clone, Debug)]
pub struct BlackoutChange {
    /// The change.
    pub change: Change,
    /// The window it is planned into.
    pub window: BlackoutWindow,
}
