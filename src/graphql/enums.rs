//! GraphQL enums, mirrored from the entity enums (which carry no GraphQL derives).

use async_graphql::Enum;

/// Where a service stands in its lifecycle.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ServiceLifecycle")]
pub enum ServiceLifecycle {
    /// Being designed or built; not yet offered.
    Pipeline,
    /// In production, offered to consumers.
    Live,
    /// No longer offered; joins no new change, release or offering.
    Retired,
}

/// How much the business depends on a service.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::Criticality")]
pub enum Criticality {
    /// Low business impact.
    Low,
    /// Medium business impact.
    Medium,
    /// High business impact.
    High,
    /// Business-critical.
    Critical,
}

/// How one service depends on another.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::DependencyKind")]
pub enum DependencyKind {
    /// It calls the other while it runs (an API, a login).
    Runtime,
    /// It reads or receives the other's data.
    Data,
    /// It runs on the other (a network, a platform, a database server).
    Infrastructure,
}

/// The kind of partner (the fourth P of service design).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::PartnerKind")]
pub enum PartnerKind {
    /// Supplies goods or services.
    Supplier,
    /// Makes the technology used.
    Manufacturer,
    /// Sells products or licences.
    Vendor,
}

/// What an API token may do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::TokenScope")]
pub enum TokenScope {
    /// Read the portfolio.
    Read,
    /// Read, and write as its person's roles allow.
    Write,
    /// Everything, including reference data, blackout windows and tokens.
    Admin,
}

/// Publication state of a service offering.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::OfferingStatus")]
pub enum OfferingStatus {
    /// Being prepared; not visible to consumers.
    Draft,
    /// Offered to its target consumer group.
    Published,
    /// No longer offered.
    Withdrawn,
}

/// What an offering component gives the consumer (ITIL 4).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::OfferingComponentKind")]
pub enum OfferingComponentKind {
    /// Ownership passes to the consumer, who becomes responsible for them.
    Goods,
    /// Ownership stays with the provider; the consumer gets access under agreed terms.
    AccessToResource,
    /// Performed by the provider to address a consumer need.
    ServiceAction,
}

/// A process role.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ProcessRole")]
pub enum ProcessRole {
    /// Accountable for the process; one per process.
    Owner,
    /// Runs the process day to day, possibly for a scope such as a region.
    Manager,
    /// Performs the process's activities.
    Practitioner,
}

/// State of a project.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ProjectStatus")]
pub enum ProjectStatus {
    /// Proposed, not started.
    Proposed,
    /// Under way.
    Active,
    /// Paused.
    OnHold,
    /// Finished; gets no new change.
    Closed,
}

/// How a change is authorized.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ChangeType")]
pub enum ChangeType {
    /// Pre-approved inside a change model; authorized on submission.
    Standard,
    /// Authorized by approvals of change-management managers or the owner.
    Normal,
    /// Authorized by one approval; may go straight to implementation.
    Emergency,
}

/// What a change touches.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ChangeCategory")]
pub enum ChangeCategory {
    /// Infrastructure.
    Infrastructure,
    /// Applications.
    Application,
    /// Documentation.
    Documentation,
}

/// Risk of a change; ordered by severity, LOW < MEDIUM < HIGH < VERY_HIGH.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::RiskLevel")]
pub enum RiskLevel {
    /// Low risk.
    Low,
    /// Medium risk.
    Medium,
    /// High risk.
    High,
    /// Very high risk.
    VeryHigh,
}

/// Change lifecycle state.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ChangeStatus")]
pub enum ChangeStatus {
    /// Being written by its requester; editable.
    Draft,
    /// Waiting for authorization.
    Submitted,
    /// Authorized (by approvals or by its model).
    Authorized,
    /// Authorized with a planned window.
    Scheduled,
    /// Being implemented.
    Implementing,
    /// Implemented; outcome under review.
    Review,
    /// Done.
    Closed,
    /// Refused by an approver.
    Rejected,
    /// Withdrawn before implementation.
    Cancelled,
}

/// How an implemented change ended.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ChangeOutcome")]
pub enum ChangeOutcome {
    /// Implemented as planned.
    Successful,
    /// Implementation failed.
    Failed,
    /// Implemented, then reverted.
    BackedOut,
}

/// An approver's decision on a change.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ApprovalDecision")]
pub enum ApprovalDecision {
    /// In favour.
    Approved,
    /// Against; one rejection rejects the change.
    Rejected,
}

/// Size of a release.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ReleaseType")]
pub enum ReleaseType {
    /// Major release.
    Major,
    /// Minor release.
    Minor,
    /// Patch release.
    Patch,
    /// Emergency release.
    Emergency,
}

/// Release lifecycle state.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::ReleaseStatus")]
pub enum ReleaseStatus {
    /// Planned; changes may be added.
    Planned,
    /// Being built.
    Building,
    /// Being tested.
    Testing,
    /// Ready to deploy.
    Ready,
    /// Deployed into production.
    Deployed,
    /// Done.
    Closed,
    /// Failed during build, test or deployment.
    Failed,
    /// Abandoned before deployment.
    Cancelled,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// Fields changes can be ordered by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChangeOrderField {
    /// The change number.
    Number,
    /// Creation time.
    CreatedAt,
    /// Last update time.
    UpdatedAt,
    /// Planned start; changes without a window come last.
    PlannedStart,
    /// Risk by severity (LOW < MEDIUM < HIGH < VERY_HIGH), never alphabetically.
    Risk,
}

/// Converts a list of GraphQL enum values to entity enum values.
pub fn to_entity<G: Copy + Into<E>, E>(values: Option<Vec<G>>) -> Option<Vec<E>> {
    values.map(|vs| vs.into_iter().map(Into::into).collect())
}

/// The kind of event a webhook endpoint receives.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::WebhookEventType")]
pub enum WebhookEventType {
    /// Everything that happens to a change: created, updated, each transition, services
    /// or releases linked (payload `type` e.g. `change.submitted`).
    Change,
    /// Everything that happens to a release (payload `type` e.g. `release.deployed`).
    Release,
}

/// Where a webhook delivery stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::DeliveryStatus")]
pub enum DeliveryStatus {
    /// Not delivered yet: waiting for its first attempt or a retry.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: the receiver refused it (a 4xx other than 408 and 429, or a redirect),
    /// or it kept failing past the maximum age (24 hours by default). Replay it to try again.
    Failed,
}
