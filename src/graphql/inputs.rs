//! GraphQL input types and their translation into store filters (IDs decoded, enums mapped).

use async_graphql::{ID, InputObject};
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
            search: self.search,
        })
    }
}
