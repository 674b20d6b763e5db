//! The service catalog: services, offerings, people and partners.

use async_graphql::{Context, ID, MaybeUndefined, Object, Result};
use entity::{service, service_offering};

use super::{ids, patch, patch_id};
use crate::domain::{NewService, OfferingPatch, ServicePatch};
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::inputs::ServiceFilter;
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::graphql::{db, gov};
use crate::store::listing::{self, OfferingScope, Root, ServiceScope};
use crate::store::lookup::by_key;

/// The part of `Query` for the service catalog: services, offerings, people and partners.
#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Services of the portfolio.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn services(
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
        connection::load(
            ctx,
            None,
            connection::list(ServiceScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// A service by its key.
    async fn service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service's key, e.g. `vpn`.")] key: String,
    ) -> Result<Option<Service>> {
        Ok(
            by_key::<service::Entity, _>(db(ctx), service::Column::Key, &key)
                .await?
                .map(Service),
        )
    }

    /// Service offerings, optionally only in some states.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn service_offerings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only offerings in any of these states.")] status: Option<
            Vec<OfferingStatus>,
        >,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<ServiceOffering>> {
        let filter = listing::OfferingFilter {
            status: to_entity(status),
        };
        connection::load(
            ctx,
            None,
            connection::list(OfferingScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// A service offering by its key.
    async fn service_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unique key.")] key: String,
    ) -> Result<Option<ServiceOffering>> {
        Ok(
            by_key::<service_offering::Entity, _>(db(ctx), service_offering::Column::Key, &key)
                .await?
                .map(ServiceOffering),
        )
    }

    /// People, optionally matching a case-insensitive text in name or e-mail.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive text to find.")] search: Option<String>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Person>> {
        let filter = listing::PersonFilter { search };
        connection::load(
            ctx,
            None,
            connection::list(Root::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// Partners: suppliers, manufacturers and vendors.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn partners(
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
    ) -> Result<Conn<Partner>> {
        connection::load(
            ctx,
            None,
            connection::list(Root::Root, listing::AllPartners, first, after, last, before)?,
        )
        .await
    }
}

/// The part of `Mutation` for the service catalog: services, offerings, people and partners.
#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Adds a person. ADMIN.
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Full name (1–200 characters).")] name: String,
        #[graphql(desc = "E-mail address, unique.")] email: String,
        #[graphql(desc = "Skills and competences.")] skills: Option<Vec<String>>,
    ) -> Result<Person> {
        let p = gov(ctx)
            .create_person(Viewer::of(ctx), &name, &email, skills)
            .await?;
        Ok(Person(p))
    }

    /// Renames a person or replaces their skills. ADMIN.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person.")] id: ID,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New skills, replacing the current ones; null empties them.")]
        skills: MaybeUndefined<Vec<String>>,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Person> {
        let id = decode(&id, Kind::Person, "id")?;
        let p = gov(ctx)
            .update_person(
                Viewer::of(ctx),
                id,
                expected_version,
                patch(name),
                patch(skills),
            )
            .await?;
        Ok(Person(p))
    }

    /// Adds a partner (supplier, manufacturer or vendor). ADMIN.
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name (1–200 characters).")] name: String,
        #[graphql(desc = "What kind of partner.")] kind: PartnerKind,
    ) -> Result<Partner> {
        let p = gov(ctx)
            .create_partner(Viewer::of(ctx), &name, kind.into())
            .await?;
        Ok(Partner(p))
    }

    /// Adds a service (PIPELINE and MEDIUM unless given). ADMIN.
    async fn create_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique slug: lower-case words joined by hyphens.")] key: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "What the service does.")] description: Option<String>,
        #[graphql(desc = "Lifecycle; PIPELINE when omitted.")] lifecycle: Option<ServiceLifecycle>,
        #[graphql(desc = "Criticality; MEDIUM when omitted.")] criticality: Option<Criticality>,
        #[graphql(desc = "The accountable owner.")] owner_id: Option<ID>,
        #[graphql(
            desc = "Region or business unit, e.g. `EMEA`: process roles scoped to it cover the service."
        )]
        scope: Option<String>,
    ) -> Result<Service> {
        let input = NewService {
            key,
            name,
            description,
            lifecycle: lifecycle.map(Into::into),
            criticality: criticality.map(Into::into),
            owner_id: decode_opt(owner_id.as_ref(), Kind::Person, "ownerId")?,
            scope,
        };
        let s = gov(ctx).create_service(Viewer::of(ctx), input).await?;
        Ok(Service(s))
    }

    /// Updates a service. ADMIN or the service's owner. RETIRED needs the service to have
    /// no open change.
    async fn update_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New description; null empties it.")] description: MaybeUndefined<String>,
        #[graphql(desc = "New lifecycle.")] lifecycle: MaybeUndefined<ServiceLifecycle>,
        #[graphql(desc = "New criticality.")] criticality: MaybeUndefined<Criticality>,
        #[graphql(desc = "New owner; null removes the owner.")] owner_id: MaybeUndefined<ID>,
        #[graphql(desc = "New scope; null makes the service unscoped.")] scope: MaybeUndefined<
            String,
        >,
    ) -> Result<Service> {
        let id = decode(&id, Kind::Service, "id")?;
        let p = ServicePatch {
            name: patch(name),
            description: patch(description),
            lifecycle: patch(lifecycle),
            criticality: patch(criticality),
            owner_id: patch_id(owner_id, Kind::Person, "ownerId")?,
            scope: patch(scope),
        };
        let s = gov(ctx)
            .update_service(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(Service(s))
    }

    /// Links a partner to a service in a role. ADMIN or the service's owner.
    async fn link_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(desc = "The partner.")] partner_id: ID,
        #[graphql(desc = "What the partner does for the service, e.g. `hosting`.")] role: String,
        #[graphql(desc = "Reference of the underpinning contract.")] contract_ref: Option<String>,
    ) -> Result<Service> {
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let pid = decode(&partner_id, Kind::Partner, "partnerId")?;
        let s = gov(ctx)
            .link_partner(Viewer::of(ctx), sid, pid, &role, contract_ref)
            .await?;
        Ok(Service(s))
    }

    /// Records that a service depends on another. ADMIN or the owner of either service.
    /// Cycles are allowed; a service does not depend on itself (BAD_USER_INPUT) nor twice
    /// on the same service (CONFLICT).
    async fn add_service_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dependent service.")] service_id: ID,
        #[graphql(desc = "The service it depends on.")] depends_on_id: ID,
        #[graphql(desc = "How it depends on it.")] kind: DependencyKind,
        #[graphql(desc = "Why, or what exactly, in a sentence.")] note: Option<String>,
    ) -> Result<ServiceDependency> {
        let (sid, on) = dependency_ids(&service_id, &depends_on_id)?;
        let link = gov(ctx)
            .add_service_dependency(Viewer::of(ctx), sid, on, kind.into(), note)
            .await?;
        Ok(ServiceDependency(link))
    }

    /// Removes a dependency; returns it as it was. ADMIN or the owner of either service.
    async fn remove_service_dependency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dependent service.")] service_id: ID,
        #[graphql(desc = "The service it depends on.")] depends_on_id: ID,
    ) -> Result<ServiceDependency> {
        let (sid, on) = dependency_ids(&service_id, &depends_on_id)?;
        let link = gov(ctx)
            .remove_service_dependency(Viewer::of(ctx), sid, on)
            .await?;
        Ok(ServiceDependency(link))
    }

    /// Removes a partner link. ADMIN or the service's owner.
    async fn unlink_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(desc = "The partner.")] partner_id: ID,
    ) -> Result<Service> {
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let pid = decode(&partner_id, Kind::Partner, "partnerId")?;
        let s = gov(ctx).unlink_partner(Viewer::of(ctx), sid, pid).await?;
        Ok(Service(s))
    }

    /// Adds a service offering in DRAFT. ADMIN.
    async fn create_service_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique slug: lower-case words joined by hyphens.")] key: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "What the consumer gets.")] description: Option<String>,
        #[graphql(desc = "The consumer group it is designed for.")] target_consumer_group: String,
        #[graphql(desc = "Services it includes (none RETIRED).")] service_ids: Option<Vec<ID>>,
    ) -> Result<ServiceOffering> {
        let services = ids(
            &service_ids.unwrap_or_default(),
            Kind::Service,
            "serviceIds",
        )?;
        let o = gov(ctx)
            .create_offering(
                Viewer::of(ctx),
                &key,
                &name,
                description,
                &target_consumer_group,
                services,
            )
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Updates a service offering (publish it by setting `status`). ADMIN.
    async fn update_service_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New description; null empties it.")] description: MaybeUndefined<String>,
        #[graphql(desc = "New target consumer group.")] target_consumer_group: MaybeUndefined<
            String,
        >,
        #[graphql(desc = "New status.")] status: MaybeUndefined<OfferingStatus>,
    ) -> Result<ServiceOffering> {
        let id = decode(&id, Kind::ServiceOffering, "id")?;
        let p = OfferingPatch {
            name: patch(name),
            description: patch(description),
            target_consumer_group: patch(target_consumer_group),
            status: patch(status),
        };
        let o = gov(ctx)
            .update_offering(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Adds a service to an offering. ADMIN.
    async fn add_service_to_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] offering_id: ID,
        #[graphql(desc = "The service (not RETIRED).")] service_id: ID,
    ) -> Result<ServiceOffering> {
        let oid = decode(&offering_id, Kind::ServiceOffering, "offeringId")?;
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let o = gov(ctx)
            .add_service_to_offering(Viewer::of(ctx), oid, sid)
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Removes a service from an offering. ADMIN.
    async fn remove_service_from_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] offering_id: ID,
        #[graphql(desc = "The service.")] service_id: ID,
    ) -> Result<ServiceOffering> {
        let oid = decode(&offering_id, Kind::ServiceOffering, "offeringId")?;
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let o = gov(ctx)
            .remove_service_from_offering(Viewer::of(ctx), oid, sid)
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Adds goods, access to a resource or a service action to an offering. ADMIN.
    async fn add_offering_component(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] offering_id: ID,
        #[graphql(desc = "What the component gives the consumer.")] kind: OfferingComponentKind,
        #[graphql(desc = "Name (1–200 characters).")] name: String,
        #[graphql(desc = "Terms, scope or details.")] description: Option<String>,
    ) -> Result<OfferingComponent> {
        let oid = decode(&offering_id, Kind::ServiceOffering, "offeringId")?;
        let c = gov(ctx)
            .add_offering_component(Viewer::of(ctx), oid, kind.into(), &name, description)
            .await?;
        Ok(OfferingComponent(c))
    }

    /// Removes a component; returns its offering. ADMIN.
    async fn remove_offering_component(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The component.")] id: ID,
    ) -> Result<ServiceOffering> {
        let id = decode(&id, Kind::OfferingComponent, "id")?;
        let o = gov(ctx)
            .remove_offering_component(Viewer::of(ctx), id)
            .await?;
        Ok(ServiceOffering(o))
    }
}

/// The two service ids of a dependency's arguments.
fn dependency_ids(service_id: &ID, depends_on_id: &ID) -> Result<(i64, i64)> {
    Ok((
        decode(service_id, Kind::Service, "serviceId")?,
        decode(depends_on_id, Kind::Service, "dependsOnId")?,
    ))
}
