//! Reference data: people, partners, services and their partner links, service offerings
//! and their components. ADMIN only, except that a service's owner may update that service
//! and its partner links (rule 8). A service with open changes cannot be retired, and a
//! retired service joins nothing new (rule 10).

use entity::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, Set};

use super::rules::{self, change_open};
use super::validate::{self, MAX_DESCRIPTION, MAX_TITLE};
use super::{Actor, Governance, Patch, Work, ensure_free, expect_version, load, save};
use crate::error::{AppError, AppResult};

/// A new service.
#[derive(Clone, Debug)]
pub struct NewService {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub lifecycle: Option<ServiceLifecycle>,
    pub criticality: Option<Criticality>,
    pub owner_id: Option<i64>,
    /// A region or business unit, e.g. `EMEA`.
    pub scope: Option<String>,
}

/// Changes to a service.
#[derive(Clone, Debug, Default)]
pub struct ServicePatch {
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub lifecycle: Patch<ServiceLifecycle>,
    pub criticality: Patch<Criticality>,
    pub owner_id: Patch<i64>,
    pub scope: Patch<String>,
}

/// Changes to a service offering.
#[derive(Clone, Debug, Default)]
pub struct OfferingPatch {
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub target_consumer_group: Patch<String>,
    pub status: Patch<OfferingStatus>,
}

/// Refuses a RETIRED service as a new member of anything (rule 10).
pub(super) fn not_retired(s: &service::Model, joining: &str) -> AppResult<()> {
    if s.lifecycle == ServiceLifecycle::Retired {
        return Err(AppError::Conflict(format!(
            "service `{}` is RETIRED and joins no new {joining}",
            s.key
        )));
    }
    Ok(())
}

impl Governance {
    /// Adds a person (ADMIN).
    pub async fn create_person(
        &self,
        actor: &Actor,
        name: &str,
        email: &str,
        skills: Option<Vec<String>>,
    ) -> AppResult<person::Model> {
        actor.admin("adding a person")?;
        let name = validate::text("name", name, MAX_TITLE)?;
        let email = validate::email("email", email)?;
        let skills = validate::skills("skills", &skills.unwrap_or_default())?;
        let w = self.start(actor).await?;
        ensure_free::<person::Entity>(&w, person::Column::Email, &email, "person", "email").await?;
        let p = person::ActiveModel {
            name: Set(name),
            email: Set(email),
            skills: Set(person::Skills(skills)),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        self.created(w, p, "Person").await
    }

    /// Renames a person or replaces their skills (ADMIN).
    pub async fn update_person(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        name: Patch<String>,
        skills: Patch<Vec<String>>,
    ) -> AppResult<person::Model> {
        actor.admin("updating a person")?;
        let name = name.required_text("name", MAX_TITLE)?;
        let skills = match skills {
            Patch::Keep => None,
            Patch::Clear => Some(Vec::new()),
            Patch::Set(s) => Some(validate::skills("skills", &s)?),
        };
        let w = self.start(actor).await?;
        let before = load::<person::Entity>(&w, id, "id").await?;
        expect_version::<person::Entity>(expected, before.version, id)?;
        let mut am: person::ActiveModel = Default::default();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(s) = skills {
            am.skills = Set(person::Skills(s));
        }
        let after = save::<person::Entity, _>(&w, am, id, before.version).await?;
        w.audit("UPDATED", "Person", id, Some(&before), Some(&after))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Adds a partner (ADMIN).
    pub async fn create_partner(
        &self,
        actor: &Actor,
        name: &str,
        kind: PartnerKind,
    ) -> AppResult<partner::Model> {
        actor.admin("adding a partner")?;
        let name = validate::text("name", name, MAX_TITLE)?;
        let w = self.start(actor).await?;
        let p = partner::ActiveModel {
            name: Set(name),
            kind: Set(kind),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        self.created(w, p, "Partner").await
    }

    /// Adds a service (ADMIN).
    pub async fn create_service(
        &self,
        actor: &Actor,
        input: NewService,
    ) -> AppResult<service::Model> {
        actor.admin("adding a service")?;
        let key = validate::key("key", &input.key)?;
        let name = validate::text("name", &input.name, MAX_TITLE)?;
        let description = validate::long_text(
            "description",
            input.description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION,
        )?;
        let scope = input
            .scope
            .map(|s| validate::text("scope", &s, MAX_TITLE))
            .transpose()?;
        let w = self.start(actor).await?;
        if let Some(owner) = input.owner_id {
            load::<person::Entity>(&w, owner, "ownerId").await?;
        }
        ensure_free::<service::Entity>(&w, service::Column::Key, &key, "service", "key").await?;
        let s = service::ActiveModel {
            key: Set(key),
            name: Set(name),
            description: Set(description),
            lifecycle: Set(input.lifecycle.unwrap_or(ServiceLifecycle::Pipeline)),
            criticality: Set(input.criticality.unwrap_or(Criticality::Medium)),
            owner_id: Set(input.owner_id),
            scope: Set(scope),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        self.created(w, s, "Service").await
    }

    /// ADMIN, or the owner of the service.
    fn service_steward(actor: &Actor, s: &service::Model, what: &str) -> AppResult<()> {
        let me = actor.writer()?;
        if actor.is_admin() || s.owner_id == Some(me) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "{what} of service `{}` needs an ADMIN token or its owner",
                s.key
            )))
        }
    }

    /// Updates a service (ADMIN or its owner). Retiring needs no open changes (rule 10).
    pub async fn update_service(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: ServicePatch,
    ) -> AppResult<service::Model> {
        actor.writer()?;
        let name = patch.name.required_text("name", MAX_TITLE)?;
        let description = patch
            .description
            .try_map(|d| validate::long_text("description", &d, MAX_DESCRIPTION))?;
        let lifecycle = patch.lifecycle.required("lifecycle")?;
        let criticality = patch.criticality.required("criticality")?;
        let scope = patch
            .scope
            .try_map(|s| validate::text("scope", &s, MAX_TITLE))?;
        let w = self.start(actor).await?;
        let before = load::<service::Entity>(&w, id, "id").await?;
        Self::service_steward(actor, &before, "updating")?;
        expect_version::<service::Entity>(expected, before.version, id)?;
        let mut am: service::ActiveModel = Default::default();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if description.is_given() {
            am.description = Set(description.apply(None).unwrap_or_default());
        }
        // The lifecycle's own order first, then what holds the service where it is: its
        // open changes (for RETIRED) and the published offerings that need it LIVE.
        if let Some(l) = lifecycle.filter(|l| *l != before.lifecycle) {
            rules::check_service_move(&before, l)?;
            if l == ServiceLifecycle::Retired {
                let open = open_changes_of(&w, id).await?;
                if !open.is_empty() {
                    return Err(AppError::Conflict(format!(
                        "service `{}` cannot be RETIRED: it has open changes ({})",
                        before.key,
                        open.join(", ")
                    )));
                }
            }
            let published = match before.lifecycle {
                ServiceLifecycle::Live => published_offerings_of(&w, id).await?,
                _ => Vec::new(),
            };
            if !published.is_empty() {
                return Err(AppError::Conflict(format!(
                    "service `{}` cannot leave LIVE for {}: published offerings hold it ({}); withdraw them or take the service out first",
                    before.key,
                    l.as_str(),
                    published.join(", ")
                )));
            }
            am.lifecycle = Set(l);
        }
        if let Some(c) = criticality {
            am.criticality = Set(c);
        }
        if let Patch::Set(owner) = patch.owner_id {
            load::<person::Entity>(&w, owner, "ownerId").await?;
        }
        if patch.owner_id.is_given() {
            am.owner_id = Set(patch.owner_id.apply(None));
        }
        if scope.is_given() {
            am.scope = Set(scope.apply(None));
        }
        let after = save::<service::Entity, _>(&w, am, id, before.version).await?;
        w.audit("UPDATED", "Service", id, Some(&before), Some(&after))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Links a partner to a service in a role (ADMIN or the service's owner).
    pub async fn link_partner(
        &self,
        actor: &Actor,
        service_id: i64,
        partner_id: i64,
        role: &str,
        contract_ref: Option<String>,
    ) -> AppResult<service::Model> {
        actor.writer()?;
        let role = validate::text("role", role, MAX_TITLE)?;
        let contract_ref = contract_ref
            .map(|c| validate::text("contractRef", &c, MAX_TITLE))
            .transpose()?;
        let w = self.start(actor).await?;
        let s = load::<service::Entity>(&w, service_id, "serviceId").await?;
        Self::service_steward(actor, &s, "linking partners")?;
        let p = load::<partner::Entity>(&w, partner_id, "partnerId").await?;
        if service_partner::Entity::find_by_id((service_id, partner_id))
            .one(w.tx())
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(format!(
                "partner {} is already linked to service `{}`",
                p.name, s.key
            )));
        }
        let link = service_partner::ActiveModel {
            service_id: Set(service_id),
            partner_id: Set(partner_id),
            role: Set(role),
            contract_ref: Set(contract_ref),
            created_at: Set(w.now),
        }
        .insert(w.tx())
        .await?;
        let after = super::guard::<service::Entity>(&w, service_id, s.version).await?;
        w.audit("PARTNER_LINKED", "Service", service_id, None, Some(&link))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Records that service `service_id` depends on `depends_on_id` (ADMIN or the owner of
    /// either service). Cycles are allowed; a service never depends on itself.
    pub async fn add_service_dependency(
        &self,
        actor: &Actor,
        service_id: i64,
        depends_on_id: i64,
        kind: DependencyKind,
        note: Option<String>,
    ) -> AppResult<service_dependency::Model> {
        actor.writer()?;
        if service_id == depends_on_id {
            return Err(AppError::bad_input(
                "`dependsOnId`: a service does not depend on itself",
            ));
        }
        let note = note
            .map(|n| validate::long_text("note", &n, MAX_DESCRIPTION))
            .transpose()?
            .filter(|n| !n.is_empty());
        let w = self.start(actor).await?;
        let (s, on) = Self::dependency_ends(&w, actor, service_id, depends_on_id).await?;
        if service_dependency::Entity::find_by_id((service_id, depends_on_id))
            .one(w.tx())
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(format!(
                "service `{}` already depends on `{}`",
                s.key, on.key
            )));
        }
        let link = service_dependency::ActiveModel {
            service_id: Set(service_id),
            depends_on_id: Set(depends_on_id),
            kind: Set(kind),
            note: Set(note),
            created_at: Set(w.now),
        }
        .insert(w.tx())
        .await?;
        super::guard::<service::Entity>(&w, service_id, s.version).await?;
        w.audit("DEPENDENCY_ADDED", "Service", service_id, None, Some(&link))
            .await?;
        w.commit(&self.bus).await?;
        Ok(link)
    }

    /// Removes a dependency (ADMIN or the owner of either service).
    pub async fn remove_service_dependency(
        &self,
        actor: &Actor,
        service_id: i64,
        depends_on_id: i64,
    ) -> AppResult<service_dependency::Model> {
        actor.writer()?;
        let w = self.start(actor).await?;
        let (s, on) = Self::dependency_ends(&w, actor, service_id, depends_on_id).await?;
        let Some(link) = service_dependency::Entity::find_by_id((service_id, depends_on_id))
            .one(w.tx())
            .await?
        else {
            return Err(AppError::not_found(format!(
                "service `{}` does not depend on `{}`",
                s.key, on.key
            )));
        };
        link.clone().delete(w.tx()).await?;
        super::guard::<service::Entity>(&w, service_id, s.version).await?;
        w.audit(
            "DEPENDENCY_REMOVED",
            "Service",
            service_id,
            Some(&link),
            None,
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(link)
    }

    /// Both ends of a dependency, and whether the caller may edit it: ADMIN, or the owner of
    /// either service.
    async fn dependency_ends(
        w: &Work,
        actor: &Actor,
        service_id: i64,
        depends_on_id: i64,
    ) -> AppResult<(service::Model, service::Model)> {
        let s = load::<service::Entity>(w, service_id, "serviceId").await?;
        let on = load::<service::Entity>(w, depends_on_id, "dependsOnId").await?;
        let me = actor.writer()?;
        if actor.is_admin() || s.owner_id == Some(me) || on.owner_id == Some(me) {
            Ok((s, on))
        } else {
            Err(AppError::Forbidden(format!(
                "the dependency of `{}` on `{}` is recorded by an ADMIN token or the owner of either service",
                s.key, on.key
            )))
        }
    }

    /// Removes a partner link (ADMIN or the service's owner).
    pub async fn unlink_partner(
        &self,
        actor: &Actor,
        service_id: i64,
        partner_id: i64,
    ) -> AppResult<service::Model> {
        actor.writer()?;
        let w = self.start(actor).await?;
        let s = load::<service::Entity>(&w, service_id, "serviceId").await?;
        Self::service_steward(actor, &s, "unlinking partners")?;
        load::<partner::Entity>(&w, partner_id, "partnerId").await?;
        let link = service_partner::Entity::find_by_id((service_id, partner_id))
            .one(w.tx())
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "`partnerId`: that partner is not linked to service `{}`",
                    s.key
                ))
            })?;
        link.clone().delete(w.tx()).await?;
        let after = super::guard::<service::Entity>(&w, service_id, s.version).await?;
        w.audit("PARTNER_UNLINKED", "Service", service_id, Some(&link), None)
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Adds a service offering (ADMIN), optionally with its services.
    pub async fn create_offering(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        description: Option<String>,
        target_consumer_group: &str,
        service_ids: Vec<i64>,
    ) -> AppResult<service_offering::Model> {
        actor.admin("adding a service offering")?;
        let key = validate::key("key", key)?;
        let name = validate::text("name", name, MAX_TITLE)?;
        let description = validate::long_text(
            "description",
            description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION,
        )?;
        let group = validate::text("targetConsumerGroup", target_consumer_group, MAX_TITLE)?;
        validate::list("serviceIds", &service_ids)?;
        let service_ids = validate::distinct(&service_ids);
        let w = self.start(actor).await?;
        let services = super::load_all::<service::Entity>(&w, &service_ids, "serviceIds").await?;
        for s in &services {
            not_retired(s, "offering")?;
        }
        ensure_free::<service_offering::Entity>(
            &w,
            service_offering::Column::Key,
            &key,
            "service offering",
            "key",
        )
        .await?;
        let o = service_offering::ActiveModel {
            key: Set(key),
            name: Set(name),
            description: Set(description),
            target_consumer_group: Set(group),
            status: Set(OfferingStatus::Draft),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        if !service_ids.is_empty() {
            offering_service::Entity::insert_many(service_ids.iter().map(|s| {
                offering_service::ActiveModel {
                    offering_id: Set(o.id),
                    service_id: Set(*s),
                    created_at: Set(w.now),
                }
            }))
            .exec(w.tx())
            .await?;
        }
        w.audit("CREATED", "ServiceOffering", o.id, None, Some(&o))
            .await?;
        w.commit(&self.bus).await?;
        Ok(o)
    }

    /// Updates a service offering (ADMIN).
    pub async fn update_offering(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: OfferingPatch,
    ) -> AppResult<service_offering::Model> {
        actor.admin("updating a service offering")?;
        let name = patch.name.required_text("name", MAX_TITLE)?;
        let description = patch
            .description
            .try_map(|d| validate::long_text("description", &d, MAX_DESCRIPTION))?;
        let group = patch
            .target_consumer_group
            .required_text("targetConsumerGroup", MAX_TITLE)?;
        let status = patch.status.required("status")?;
        let w = self.start(actor).await?;
        let before = load::<service_offering::Entity>(&w, id, "id").await?;
        expect_version::<service_offering::Entity>(expected, before.version, id)?;
        let mut am: service_offering::ActiveModel = Default::default();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if description.is_given() {
            am.description = Set(description.apply(None).unwrap_or_default());
        }
        if let Some(g) = group {
            am.target_consumer_group = Set(g);
        }
        if let Some(s) = status {
            if s == OfferingStatus::Published && before.status != OfferingStatus::Published {
                let not_live: Vec<String> = services_of_offering(&w, id)
                    .await?
                    .into_iter()
                    .filter(|s| s.lifecycle != ServiceLifecycle::Live)
                    .map(|s| format!("`{}` is {}", s.key, s.lifecycle.as_str()))
                    .collect();
                if !not_live.is_empty() {
                    return Err(AppError::Conflict(format!(
                        "offering `{}` cannot be PUBLISHED: an offering is published only while all its services are LIVE ({})",
                        before.key,
                        not_live.join(", ")
                    )));
                }
            }
            am.status = Set(s);
        }
        let after = save::<service_offering::Entity, _>(&w, am, id, before.version).await?;
        w.audit(
            "UPDATED",
            "ServiceOffering",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Adds a service to an offering (ADMIN); a retired service joins no offering.
    pub async fn add_service_to_offering(
        &self,
        actor: &Actor,
        offering_id: i64,
        service_id: i64,
    ) -> AppResult<service_offering::Model> {
        actor.admin("changing a service offering")?;
        let w = self.start(actor).await?;
        let o = load::<service_offering::Entity>(&w, offering_id, "offeringId").await?;
        let s = load::<service::Entity>(&w, service_id, "serviceId").await?;
        not_retired(&s, "offering")?;
        if o.status == OfferingStatus::Published && s.lifecycle != ServiceLifecycle::Live {
            return Err(AppError::Conflict(format!(
                "service `{}` is {} and cannot join offering `{}`, which is PUBLISHED: a published offering holds LIVE services only",
                s.key,
                s.lifecycle.as_str(),
                o.key
            )));
        }
        if offering_service::Entity::find_by_id((offering_id, service_id))
            .one(w.tx())
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(format!(
                "service `{}` is already part of offering `{}`",
                s.key, o.key
            )));
        }
        let link = offering_service::ActiveModel {
            offering_id: Set(offering_id),
            service_id: Set(service_id),
            created_at: Set(w.now),
        }
        .insert(w.tx())
        .await?;
        let after = super::guard::<service_offering::Entity>(&w, offering_id, o.version).await?;
        w.audit(
            "SERVICE_ADDED",
            "ServiceOffering",
            offering_id,
            None,
            Some(&link),
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Removes a service from an offering (ADMIN).
    pub async fn remove_service_from_offering(
        &self,
        actor: &Actor,
        offering_id: i64,
        service_id: i64,
    ) -> AppResult<service_offering::Model> {
        actor.admin("changing a service offering")?;
        let w = self.start(actor).await?;
        let o = load::<service_offering::Entity>(&w, offering_id, "offeringId").await?;
        load::<service::Entity>(&w, service_id, "serviceId").await?;
        let link = offering_service::Entity::find_by_id((offering_id, service_id))
            .one(w.tx())
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "`serviceId`: that service is not part of offering `{}`",
                    o.key
                ))
            })?;
        link.clone().delete(w.tx()).await?;
        let after = super::guard::<service_offering::Entity>(&w, offering_id, o.version).await?;
        w.audit(
            "SERVICE_REMOVED",
            "ServiceOffering",
            offering_id,
            Some(&link),
            None,
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Adds a component (goods, access to a resource, a service action) to an offering (ADMIN).
    pub async fn add_offering_component(
        &self,
        actor: &Actor,
        offering_id: i64,
        kind: OfferingComponentKind,
        name: &str,
        description: Option<String>,
    ) -> AppResult<offering_component::Model> {
        actor.admin("changing a service offering")?;
        let name = validate::text("name", name, MAX_TITLE)?;
        let description = validate::long_text(
            "description",
            description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION,
        )?;
        let w = self.start(actor).await?;
        let o = load::<service_offering::Entity>(&w, offering_id, "offeringId").await?;
        let c = offering_component::ActiveModel {
            offering_id: Set(offering_id),
            kind: Set(kind),
            name: Set(name),
            description: Set(description),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        super::guard::<service_offering::Entity>(&w, offering_id, o.version).await?;
        w.audit("CREATED", "OfferingComponent", c.id, None, Some(&c))
            .await?;
        w.commit(&self.bus).await?;
        Ok(c)
    }

    /// Removes a component from its offering (ADMIN); returns the offering.
    pub async fn remove_offering_component(
        &self,
        actor: &Actor,
        id: i64,
    ) -> AppResult<service_offering::Model> {
        actor.admin("changing a service offering")?;
        let w = self.start(actor).await?;
        let c = load::<offering_component::Entity>(&w, id, "id").await?;
        let o = load::<service_offering::Entity>(&w, c.offering_id, "offeringId").await?;
        c.clone().delete(w.tx()).await?;
        let after = super::guard::<service_offering::Entity>(&w, o.id, o.version).await?;
        w.audit::<offering_component::Model>("DELETED", "OfferingComponent", id, Some(&c), None)
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }
}

/// Numbers of the open changes that touch service `id`.
async fn open_changes_of(w: &Work, id: i64) -> AppResult<Vec<String>> {
    let ids: Vec<i64> = change_service::Entity::find()
        .filter(change_service::Column::ServiceId.eq(id))
        .all(w.tx())
        .await?
        .into_iter()
        .map(|l| l.change_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let changes = change::Entity::find()
        .filter(change::Column::Id.is_in(ids))
        .all(w.tx())
        .await?;
    Ok(changes
        .into_iter()
        .filter(|c| change_open(c.status))
        .map(|c| c.number)
        .collect())
}

/// The keys of the PUBLISHED offerings that hold service `service_id`.
async fn published_offerings_of(w: &Work, service_id: i64) -> AppResult<Vec<String>> {
    Ok(offering_service::Entity::find()
        .filter(offering_service::Column::ServiceId.eq(service_id))
        .find_also_related(service_offering::Entity)
        .all(w.tx())
        .await?
        .into_iter()
        .filter_map(|(_, o)| o)
        .filter(|o| o.status == OfferingStatus::Published)
        .map(|o| o.key)
        .collect())
}

/// The services offering `offering_id` holds.
async fn services_of_offering(w: &Work, offering_id: i64) -> AppResult<Vec<service::Model>> {
    Ok(offering_service::Entity::find()
        .filter(offering_service::Column::OfferingId.eq(offering_id))
        .find_also_related(service::Entity)
        .all(w.tx())
        .await?
        .into_iter()
        .filter_map(|(_, s)| s)
        .collect())
}
