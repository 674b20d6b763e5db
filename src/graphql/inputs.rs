//! GraphQL input types and their translation into store filters (IDs decoded, enums mapped).

use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::{DateTime, Utc};

use super::enums::*;
use super::ids::{Kind, decode_opt};
use crate::error::AppResult;
use crate::store::listing;

/// Narrows a list of changes. Criteria combine with AND; list criteria match any of their values.
#[derive(InputObject, Clone, Default)]
pub struct ChangeFilter {
    /// Changes in any of these states.
    pub status: Option<Vec<ChangeStatus>>,
    /// Changes of any of these types.
    #[graphql(name = "type")]
    pub change_type: Option<Vec<ChangeType>>,
    /// Changes of any of these risk levels.
    pub risk: Option<Vec<RiskLevel>>,
    /// Changes in any of these categories.
    pub category: Option<Vec<ChangeCategory>>,
    /// Changes that touch this service.
    pub service_id: Option<ID>,
    /// Changes spawned by this project.
    pub project_id: Option<ID>,
    /// Changes within this change model.
    pub model_id: Option<ID>,
    /// Changes requested by this person.
    pub requested_by_id: Option<ID>,
    /// With `plannedTo`: changes whose planned window overlaps [plannedFrom, plannedTo].
    pub planned_from: Option<DateTime<Utc>>,
    /// With `plannedFrom`: changes whose planned window overlaps [plannedFrom, plannedTo].
    pub planned_to: Option<DateTime<Utc>>,
    /// Case-insensitive text to find in the number or the title.
    pub search: Option<String>,
    /// Changes packaged in this release.
    pub release_id: Option<ID>,
    /// Changes updated at or after this time: incremental sync for reporting tools.
    pub updated_since: Option<DateTime<Utc>>,
}

/// Ordering of a list of changes.
#[derive(InputObject, Clone, Copy)]
pub struct ChangeOrder {
    /// The field to order by; ties are broken by creation order.
    pub field: ChangeOrderField,
    /// Ascending or descending.
    pub direction: SortDirection,
}

impl ChangeFilter {
    /// The store filter, with IDs decoded and the ordering applied.
    pub fn resolve(self, order: Option<ChangeOrder>) -> AppResult<listing::ChangeFilter> {
        let (sort, descending) = match order {
            None => (listing::ChangeSort::Id, false),
            Some(o) => (
                match o.field {
                    ChangeOrderField::Number => listing::ChangeSort::Number,
                    ChangeOrderField::CreatedAt => listing::ChangeSort::CreatedAt,
                    ChangeOrderField::UpdatedAt => listing::ChangeSort::UpdatedAt,
                    ChangeOrderField::PlannedStart => listing::ChangeSort::PlannedStart,
                    ChangeOrderField::Risk => listing::ChangeSort::Risk,
                },
                o.direction == SortDirection::Desc,
            ),
        };
        Ok(listing::ChangeFilter {
            status: to_entity(self.status),
            change_type: to_entity(self.change_type),
            risk: to_entity(self.risk),
            category: to_entity(self.category),
            service_id: decode_opt(self.service_id.as_ref(), Kind::Service, "filter.serviceId")?,
            project_id: decode_opt(self.project_id.as_ref(), Kind::Project, "filter.projectId")?,
            model_id: decode_opt(self.model_id.as_ref(), Kind::ChangeModel, "filter.modelId")?,
            requested_by_id: decode_opt(
                self.requested_by_id.as_ref(),
                Kind::Person,
                "filter.requestedById",
            )?,
            planned_from: self.planned_from,
            planned_to: self.planned_to,
            search: self.search,
            release_id: decode_opt(self.release_id.as_ref(), Kind::Release, "filter.releaseId")?,
            updated_since: self.updated_since,
            awaiting: None,
            sort,
            descending,
        })
    }
}

/// Narrows a list of releases. Criteria combine with AND.
#[derive(InputObject, Clone, Default)]
pub struct ReleaseFilter {
    /// Releases in any of these states.
    pub status: Option<Vec<ReleaseStatus>>,
    /// Releases of any of these types.
    #[graphql(name = "type")]
    pub release_type: Option<Vec<ReleaseType>>,
    /// Releases out of this project.
    pub project_id: Option<ID>,
    /// Releases that deliver to this service.
    pub service_id: Option<ID>,
    /// Releases planned at or after this time.
    pub planned_from: Option<DateTime<Utc>>,
    /// Releases planned at or before this time.
    pub planned_to: Option<DateTime<Utc>>,
    /// Case-insensitive text to find in the name or the version label.
    pub search: Option<String>,
}

impl ReleaseFilter {
    /// The store filter, with IDs decoded.
    pub fn resolve(self) -> AppResult<listing::ReleaseFilter> {
        Ok(listing::ReleaseFilter {
            status: to_entity(self.status),
            release_type: to_entity(self.release_type),
            project_id: decode_opt(self.project_id.as_ref(), Kind::Project, "filter.projectId")?,
            service_id: decode_opt(self.service_id.as_ref(), Kind::Service, "filter.serviceId")?,
            planned_from: self.planned_from,
            planned_to: self.planned_to,
            search: self.search,
        })
    }
}

/// Narrows a list of services. Criteria combine with AND.
#[derive(InputObject, Clone, Default)]
pub struct ServiceFilter {
    /// Services in any of these lifecycle stages.
    pub lifecycle: Option<Vec<ServiceLifecycle>>,
    /// Services of any of these criticalities.
    pub criticality: Option<Vec<Criticality>>,
    /// Services owned by this person.
    pub owner_id: Option<ID>,
    /// Services in any of these scopes (regions or business units, matched exactly).
    pub scope: Option<Vec<String>>,
    /// Case-insensitive text to find in the key or the name.
    pub search: Option<String>,
}

impl ServiceFilter {
    /// The store filter, with IDs decoded.
    pub fn resolve(self) -> AppResult<listing::ServiceFilter> {
        Ok(listing::ServiceFilter {
            lifecycle: to_entity(self.lifecycle),
            criticality: to_entity(self.criticality),
            owner_id: decode_opt(self.owner_id.as_ref(), Kind::Person, "filter.ownerId")?,
            scope: self.scope,
            search: self.search,
        })
    }
}

/// A new change. It is created in DRAFT, requested by the caller.
#[derive(InputObject)]
pub struct CreateChangeInput {
    /// What the change does (1–200 characters).
    pub title: String,
    /// Why and how (at most 10,000 characters).
    pub description: Option<String>,
    /// What the change touches.
    pub category: ChangeCategory,
    /// How it is authorized: STANDARD by its pre-approved model, NORMAL by approvals,
    /// EMERGENCY by one approval.
    #[graphql(name = "type")]
    pub change_type: ChangeType,
    /// Its risk.
    pub risk: RiskLevel,
    /// The services it touches (at least one; none RETIRED).
    pub service_ids: Vec<ID>,
    /// The project that spawns it (not CLOSED).
    pub project_id: Option<ID>,
    /// The change model it falls within (required for STANDARD changes at submission).
    pub model_id: Option<ID>,
    /// Start of the planned window (with `plannedEnd`, before it).
    pub planned_start: Option<DateTime<Utc>>,
    /// End of the planned window.
    pub planned_end: Option<DateTime<Utc>>,
}

/// Edits of a DRAFT change, by its requester. Absent fields stay as they are; an explicit
/// null clears a nullable field.
#[derive(InputObject, Default)]
pub struct UpdateChangeInput {
    /// New title.
    pub title: MaybeUndefined<String>,
    /// New description; null empties it.
    pub description: MaybeUndefined<String>,
    /// New category.
    pub category: MaybeUndefined<ChangeCategory>,
    /// New type.
    #[graphql(name = "type")]
    pub change_type: MaybeUndefined<ChangeType>,
    /// New risk.
    pub risk: MaybeUndefined<RiskLevel>,
    /// The services it touches, replacing the current ones.
    pub service_ids: MaybeUndefined<Vec<ID>>,
    /// New project; null detaches the change from its project.
    pub project_id: MaybeUndefined<ID>,
    /// New change model; null removes it.
    pub model_id: MaybeUndefined<ID>,
    /// New start of the planned window; null clears it.
    pub planned_start: MaybeUndefined<DateTime<Utc>>,
    /// New end of the planned window; null clears it.
    pub planned_end: MaybeUndefined<DateTime<Utc>>,
}

/// A new release. It is created PLANNED.
#[derive(InputObject)]
pub struct CreateReleaseInput {
    /// Display name (1–200 characters).
    pub name: String,
    /// The release label, e.g. `2.4.0`.
    pub version: String,
    /// Size of the release.
    #[graphql(name = "type")]
    pub release_type: ReleaseType,
    /// The project it delivers.
    pub project_id: Option<ID>,
    /// The release it follows, for sequential releases (a release is followed by at most one).
    pub previous_release_id: Option<ID>,
    /// Changes it packages (none CLOSED, REJECTED, CANCELLED or in another live release).
    pub change_ids: Option<Vec<ID>>,
    /// Services it deploys into (none RETIRED).
    pub service_ids: Option<Vec<ID>>,
    /// When it is planned to deploy.
    pub planned_date: Option<DateTime<Utc>>,
    /// Start of the planned deployment window (with `plannedEnd`; required before DEPLOYED).
    pub planned_start: Option<DateTime<Utc>>,
    /// End of the planned deployment window.
    pub planned_end: Option<DateTime<Utc>>,
}

/// A post-implementation review, given when a change closes.
#[derive(InputObject)]
pub struct ChangeReviewInput {
    /// What happened, in a sentence or a page (1–10,000 characters).
    pub summary: String,
    /// Whether the change met its objectives.
    pub objectives_met: bool,
    /// What follows up: a problem record, a lesson, a new change.
    pub follow_up: Option<String>,
}
