//! Products and partners: services, their partners, offerings and offering components.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{
    offering_component, partner, person, service, service_dependency, service_offering,
    service_partner,
};

use super::graph::{self, BlastRadius};
use super::{Change, Person, Release, wrapper};
use crate::error::AppError;
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, encode};
use crate::graphql::inputs::{ChangeFilter, ChangeOrder, ReleaseFilter, ServiceFilter};
use crate::graphql::loaders::{OpenChangesOf, UpcomingReleasesOf};
use crate::graphql::narrow::Narrow;
use crate::graphql::{by_opt_id, children, loader, required};
use crate::store::graph::Origin;
use crate::store::listing::{self, ChangeScope, OfferingScope, ReleaseScope, ServiceScope};
use crate::store::relations;

wrapper!(
    /// A service of the portfolio (a Product of the Four Ps), owned by a person, delivered to
    /// consumers through offerings, changed by changes and released by releases.
    Service, service::Model
);

impl Narrow for Service {
    type Entity = service::Entity;
    fn reads(field: &str) -> Option<&'static [service::Column]> {
        use service::Column as C;
        Some(match field {
            "id" | "offerings" | "partners" | "changes" | "releases" | "dependsOn"
            | "dependents" | "dependencies" | "blastRadius" => &[],
            "key" => &[C::Key],
            "name" => &[C::Name],
            "description" => &[C::Description],
            "lifecycle" => &[C::Lifecycle],
            "criticality" => &[C::Criticality],
            "owner" => &[C::OwnerId],
            "createdAt" => &[C::CreatedAt],
            "updatedAt" => &[C::UpdatedAt],
            "version" => &[C::Version],
            _ => return None,
        })
    }
}

#[Object(use_type_description)]
impl Service {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Service, self.0.id)
    }
    /// Unique slug, stable across environments; look-up key of `Query.service`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the service does, for whom.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Lifecycle stage.
    async fn lifecycle(&self) -> ServiceLifecycle {
        self.0.lifecycle.into()
    }
    /// How much the business depends on it.
    async fn criticality(&self) -> Criticality {
        self.0.criticality.into()
    }
    /// Region or business unit, e.g. `EMEA`. A process role assigned with a scope covers
    /// only the services of that scope; one without a scope (and a process OWNER) covers
    /// every service.
    async fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }
    /// The accountable owner, if one is named.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.0.owner_id)
            .await?
            .map(Person::from))
    }
    /// Offerings that include this service.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn offerings(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<ServiceOffering>> {
        let list = connection::list(
            OfferingScope::Service,
            listing::OfferingFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// The services this one depends on (at run time, for its data, or on infrastructure).
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn depends_on(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the services matching this filter.")] filter: Option<ServiceFilter>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Service>> {
        let filter = filter.unwrap_or_default().resolve()?;
        let list = connection::list(ServiceScope::DependsOn, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// Every service a change to this one may reach through its dependents, to `depth`
    /// edges (1 to 10), each once at its shortest distance with one path; and the
    /// offerings and consumer groups that would feel it.
    async fn blast_radius(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 3, desc = "Most dependency edges to follow (1 to 10).")] depth: i32,
    ) -> Result<BlastRadius> {
        graph::blast_radius(ctx, Origin::Service, self.0.id, depth).await
    }
    /// The services that depend on this one: what a change to it may reach first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn dependents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the services matching this filter.")] filter: Option<ServiceFilter>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Service>> {
        let filter = filter.unwrap_or_default().resolve()?;
        let list = connection::list(ServiceScope::Dependents, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// This service's dependencies with their kind and note, by the service depended on.
    async fn dependencies(&self, ctx: &Context<'_>) -> Result<Vec<ServiceDependency>> {
        let links = children(ctx, relations::dependencies_of_service(), self.0.id).await?;
        Ok(links.iter().cloned().map(ServiceDependency).collect())
    }
    /// Partners (suppliers, manufacturers, vendors) involved, with their role.
    async fn partners(&self, ctx: &Context<'_>) -> Result<Vec<ServicePartner>> {
        let links = children(ctx, relations::partners_of_service(), self.0.id).await?;
        Ok(links.iter().cloned().map(ServicePartner).collect())
    }
    /// Changes that touch this service.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the changes matching this filter.")] filter: Option<ChangeFilter>,
        #[graphql(desc = "Ordering; creation order when omitted.")] order_by: Option<ChangeOrder>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Change>> {
        let filter = filter.unwrap_or_default().resolve(order_by)?;
        let list = connection::list(ChangeScope::Service, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// Releases that deliver to this service.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn releases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the releases matching this filter.")] filter: Option<ReleaseFilter>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Release>> {
        let filter = filter.unwrap_or_default().resolve()?;
        let list = connection::list(ReleaseScope::Service, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// When the service was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the service last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A partner's involvement in a service.
#[derive(Clone, Debug, async_graphql::Description)]
pub struct ServicePartner(pub service_partner::Model);

#[Object(use_type_description)]
impl ServicePartner {
    /// The service.
    async fn service(&self, ctx: &Context<'_>) -> Result<Service> {
        Ok(required::<service::Entity>(ctx, self.0.service_id)
            .await?
            .into())
    }
    /// The partner.
    async fn partner(&self, ctx: &Context<'_>) -> Result<Partner> {
        Ok(required::<partner::Entity>(ctx, self.0.partner_id)
            .await?
            .into())
    }
    /// What the partner does for the service, e.g. "hosting" or "licences".
    async fn role(&self) -> &str {
        &self.0.role
    }
    /// Reference of the underpinning contract, if any.
    async fn contract_ref(&self) -> Option<&str> {
        self.0.contract_ref.as_deref()
    }
}

wrapper!(
    /// A supplier, manufacturer or vendor (the Partners of the Four Ps).
    Partner, partner::Model
);

#[Object(use_type_description)]
impl Partner {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Partner, self.0.id)
    }
    /// Company name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Supplier, manufacturer or vendor.
    async fn kind(&self) -> PartnerKind {
        self.0.kind.into()
    }
    /// The services this partner is involved in, with its role in each.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<ServicePartner>> {
        let links = children(ctx, relations::services_of_partner(), self.0.id).await?;
        Ok(links.iter().cloned().map(ServicePartner).collect())
    }
    /// When the partner was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the partner last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

wrapper!(
    /// A service offering (ITIL 4): a description of one or more services designed for the
    /// needs of a target consumer group, made of goods, access to resources and service actions.
    ServiceOffering, service_offering::Model
);

#[Object(use_type_description)]
impl ServiceOffering {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::ServiceOffering, self.0.id)
    }
    /// Unique slug; look-up key of `Query.serviceOffering`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What is offered.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The consumers this offering is designed for.
    async fn target_consumer_group(&self) -> &str {
        &self.0.target_consumer_group
    }
    /// Publication state.
    async fn status(&self) -> OfferingStatus {
        self.0.status.into()
    }
    /// The services this offering describes.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Service>> {
        let list = connection::list(
            listing::ServiceScope::Offering,
            listing::ServiceFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// Open changes (DRAFT..REVIEW) touching any of its services, soonest planned first
    /// (unplanned last): what is about to change for its consumer group.
    async fn open_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (default 20, max 100).", default = 20)] first: i32,
    ) -> Result<Vec<Change>> {
        let limit = upcoming_limit(first)?;
        let rows = loader(ctx)
            .load_one(OpenChangesOf(self.0.id, limit))
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(Change).collect())
    }
    /// Releases not yet deployed (PLANNED..READY) delivering to any of its services,
    /// soonest planned first.
    async fn upcoming_releases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most this many (default 20, max 100).", default = 20)] first: i32,
    ) -> Result<Vec<Release>> {
        let limit = upcoming_limit(first)?;
        let rows = loader(ctx)
            .load_one(UpcomingReleasesOf(self.0.id, limit))
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(Release).collect())
    }
    /// What the consumer gets, optionally only of one kind.
    async fn components(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only components of this kind.")] kind: Option<OfferingComponentKind>,
    ) -> Result<Vec<OfferingComponent>> {
        let all = children(ctx, relations::components_of_offering(), self.0.id).await?;
        let wanted: Option<entity::OfferingComponentKind> = kind.map(Into::into);
        Ok(all
            .iter()
            .filter(|c| wanted.is_none_or(|k| c.kind == k))
            .cloned()
            .map(OfferingComponent)
            .collect())
    }
    /// When the offering was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the offering last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

wrapper!(
    /// One element of an offering: goods, access to a resource, or a service action.
    OfferingComponent, offering_component::Model
);

#[Object(use_type_description)]
impl OfferingComponent {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::OfferingComponent, self.0.id)
    }
    /// Goods, access to resource, or service action.
    async fn kind(&self) -> OfferingComponentKind {
        self.0.kind.into()
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What exactly the consumer gets.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The offering this component belongs to.
    async fn offering(&self, ctx: &Context<'_>) -> Result<ServiceOffering> {
        Ok(
            required::<service_offering::Entity>(ctx, self.0.offering_id)
                .await?
                .into(),
        )
    }
}

/// A list length between 1 and 100.
fn upcoming_limit(first: i32) -> Result<u64> {
    Ok(u64::from(crate::graphql::bounded("first", first, 100)?))
}

wrapper!(
    /// One service depending on another: the edge of the portfolio's technology graph.
    ServiceDependency, service_dependency::Model
);

#[Object(use_type_description)]
impl ServiceDependency {
    /// The dependent service.
    async fn service(&self, ctx: &Context<'_>) -> Result<Service> {
        Ok(required::<service::Entity>(ctx, self.0.service_id)
            .await?
            .into())
    }
    /// The service it depends on.
    async fn depends_on(&self, ctx: &Context<'_>) -> Result<Service> {
        Ok(required::<service::Entity>(ctx, self.0.depends_on_id)
            .await?
            .into())
    }
    /// How it depends on it.
    async fn kind(&self) -> DependencyKind {
        self.0.kind.into()
    }
    /// Why, or what exactly, in a sentence.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When the dependency was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
