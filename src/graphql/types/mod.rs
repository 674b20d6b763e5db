//! The object types of the schema. Each wraps an entity model; every relationship field
//! resolves through the request's loaders (`super::loaders`), never by a query of its own.

mod approval_policy;
mod as_of;
mod audit;
mod blackout;
mod catalog;
mod change;
pub mod events;
mod flow;
mod graph;
mod history;
pub mod node;
mod people;
mod release;
mod reporting;
mod token;
mod transition;
mod webhook;

pub use approval_policy::ApprovalRule;
pub use as_of::PortfolioSnapshot;
pub use audit::AuditEvent;
pub use blackout::{BlackoutChange, BlackoutWindow};
pub use catalog::{
    OfferingComponent, Partner, Service, ServiceDependency, ServiceOffering, ServicePartner,
};
pub use change::{Approval, Change, ChangeModel, PolicyOnce, Project, StatusCount};
pub use flow::FlowMetrics;
pub use graph::{BlastRadius, ReachedService, RiskAssessment};
pub use history::{EntityDiff, EntityDiffConnection, FieldDiff, decode_cursor};
pub use node::Node;
pub use people::{Person, Policy, Process, ProcessRoleAssignment};
pub use release::Release;
pub use reporting::{ChangeMetrics, ChangeSchedule, ConflictReason};
pub use token::{ApiToken, NewApiToken};
pub use transition::{ChangeAction, ChangeTransition, ReleaseTransition};
pub use webhook::{WebhookDelivery, WebhookEndpoint, WebhookEndpointSecret};

/// Declares a wrapper object type around an entity model. Its doc comment is the GraphQL
/// type's description (the `#[Object(use_type_description)]` impl reads it).
macro_rules! wrapper {
    ($(#[$doc:meta])* $name:ident, $model:path) => {
        $(#[$doc])*
        #[derive(Clone, Debug, async_graphql::Description)]
        pub struct $name(pub $model);

        impl From<$model> for $name {
            fn from(m: $model) -> Self {
                Self(m)
            }
        }
    };
}
pub(crate) use wrapper;

/// Types whose connections read whole rows: their tables are decoded by SeaORM, a page at a
/// time, and are narrow already.
macro_rules! read_whole {
    ($($name:ident: $entity:path),* $(,)?) => {$(
        impl crate::graphql::narrow::Narrow for $name {
            type Entity = $entity;
        }
    )*};
}

read_whole!(
    AuditEvent: entity::audit_event::Entity,
    ChangeModel: entity::change_model::Entity,
    Partner: entity::partner::Entity,
    Person: entity::person::Entity,
    Process: entity::process::Entity,
    Project: entity::project::Entity,
    ServiceOffering: entity::service_offering::Entity,
);
