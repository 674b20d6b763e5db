//! The portfolio as it stood at an instant, rebuilt from the audit trail's row images.
//!
//! Each object of a snapshot is the `after` image of its last event at or before the
//! instant, so every field it shows is as it was then. Relationships are answered as of the
//! same instant where the trail records them (a change's approvals, a release's changes);
//! where it does not (a change's services, an offering's services) the snapshot types have
//! no such field, so nothing of the present is mixed in. People are shown as they are now.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject, Union};
use chrono::{DateTime, Utc};
use entity::{change, person, project, release, service, service_offering};
use serde::de::DeserializeOwned;

use super::{Approval, Person};
use crate::error::AppError;
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, decode_any, encode};
use crate::graphql::loaders::{ApprovalsAt, ImageAt, MembersAt};
use crate::graphql::{by_opt_id, db, loader, required};
use crate::store::lookup;

/// The row of `kind` `id` at `at`, rebuilt from its image; `None` when it did not exist
/// yet or no longer did.
async fn row_at<M: DeserializeOwned>(
    ctx: &Context<'_>,
    at: DateTime<Utc>,
    kind: Kind,
    id: i64,
) -> Result<Option<M>> {
    let image = loader(ctx)
        .load_one(ImageAt {
            at,
            entity_type: kind.name(),
            id,
        })
        .await
        .map_err(AppError::from)?
        .flatten();
    let Some(image) = image else {
        return Ok(None);
    };
    let row = serde_json::from_value::<M>(Arc::unwrap_or_clone(image)).map_err(|_| {
        AppError::bad_input(format!(
            "the audit trail holds no whole image of {} {} at {at}: it was loaded, not \
             written through the API, before that instant",
            kind.name(),
            encode(kind, id).0
        ))
    })?;
    Ok(Some(row))
}

/// The portfolio as it stood at one instant: objects rebuilt from the audit trail.
#[derive(async_graphql::Description)]
pub struct PortfolioSnapshot {
    pub at: DateTime<Utc>,
}

#[Object(use_type_description)]
impl PortfolioSnapshot {
    /// The instant.
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
    /// A change by number, as it stood; null if it did not exist yet.
    async fn change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Change number, e.g. `CHG0000042`.")] number: String,
    ) -> Result<Option<ChangeAsOf>> {
        let now = lookup::by_key::<change::Entity, _>(db(ctx), change::Column::Number, &number);
        let Some(now) = now.await? else {
            return Ok(None);
        };
        change_at(ctx, self.at, now.id).await
    }
    /// A release by ID, as it stood; null if it did not exist yet.
    async fn release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release's global ID.")] id: ID,
    ) -> Result<Option<ReleaseAsOf>> {
        let row = crate::graphql::ids::decode(&id, Kind::Release, "id")?;
        release_at(ctx, self.at, row).await
    }
    /// A service by key, as it stood; null if it did not exist yet.
    async fn service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service's key.")] key: String,
    ) -> Result<Option<ServiceAsOf>> {
        let now = lookup::by_key::<service::Entity, _>(db(ctx), service::Column::Key, &key);
        let Some(now) = now.await? else {
            return Ok(None);
        };
        Ok(
            row_at::<service::Model>(ctx, self.at, Kind::Service, now.id)
                .await?
                .map(ServiceAsOf::from),
        )
    }
    /// A service offering by key, as it stood; null if it did not exist yet.
    async fn service_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering's key.")] key: String,
    ) -> Result<Option<ServiceOfferingAsOf>> {
        let column = service_offering::Column::Key;
        let now = lookup::by_key::<service_offering::Entity, _>(db(ctx), column, &key);
        let Some(now) = now.await? else {
            return Ok(None);
        };
        Ok(
            row_at::<service_offering::Model>(ctx, self.at, Kind::ServiceOffering, now.id)
                .await?
                .map(ServiceOfferingAsOf::from),
        )
    }
    /// A project by code, as it stood; null if it did not exist yet.
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's code.")] code: String,
    ) -> Result<Option<ProjectAsOf>> {
        let now = lookup::by_key::<project::Entity, _>(db(ctx), project::Column::Code, &code);
        let Some(now) = now.await? else {
            return Ok(None);
        };
        Ok(
            row_at::<project::Model>(ctx, self.at, Kind::Project, now.id)
                .await?
                .map(ProjectAsOf::from),
        )
    }
    /// Any change, release, service, offering or project by global ID, as it stood. Other
    /// kinds of object are refused: their history is not rebuilt.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID of a change, release, service, offering or project.")] id: ID,
    ) -> Result<Option<NodeAsOf>> {
        let (kind, row) = decode_any(&id, "id")?;
        let at = self.at;
        Ok(match kind {
            Kind::Change => change_at(ctx, at, row)
                .await?
                .map(|c| NodeAsOf::Change(Box::new(c))),
            Kind::Release => release_at(ctx, at, row).await?.map(NodeAsOf::Release),
            Kind::Service => row_at::<service::Model>(ctx, at, kind, row)
                .await?
                .map(|m| NodeAsOf::Service(m.into())),
            Kind::ServiceOffering => row_at::<service_offering::Model>(ctx, at, kind, row)
                .await?
                .map(|m| NodeAsOf::ServiceOffering(m.into())),
            Kind::Project => row_at::<project::Model>(ctx, at, kind, row)
                .await?
                .map(|m| NodeAsOf::Project(m.into())),
            other => {
                return Err(AppError::bad_input(format!(
                    "`asOf` rebuilds changes, releases, services, offerings and projects, not a {}",
                    other.name()
                ))
                .into());
            }
        })
    }
}

async fn change_at(ctx: &Context<'_>, at: DateTime<Utc>, id: i64) -> Result<Option<ChangeAsOf>> {
    Ok(row_at::<change::Model>(ctx, at, Kind::Change, id)
        .await?
        .map(|m| ChangeAsOf::new(m, at)))
}

async fn release_at(ctx: &Context<'_>, at: DateTime<Utc>, id: i64) -> Result<Option<ReleaseAsOf>> {
    Ok(row_at::<release::Model>(ctx, at, Kind::Release, id)
        .await?
        .map(|m| ReleaseAsOf::new(m, at)))
}

/// An object of a snapshot.
#[derive(Union)]
pub enum NodeAsOf {
    Change(Box<ChangeAsOf>),
    Release(ReleaseAsOf),
    Service(ServiceAsOf),
    ServiceOffering(ServiceOfferingAsOf),
    Project(ProjectAsOf),
}

/// A change as it stood at a snapshot's instant.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ChangeAsOf {
    /// Opaque global ID (the change's, as today).
    id: ID,
    /// Change number.
    number: String,
    /// Title then.
    title: String,
    /// Description then.
    description: String,
    /// Category then.
    category: ChangeCategory,
    /// Type then.
    #[graphql(name = "type")]
    change_type: ChangeType,
    /// Declared risk then.
    risk: RiskLevel,
    /// Lifecycle state then.
    status: ChangeStatus,
    /// Outcome, once completed.
    outcome: Option<ChangeOutcome>,
    /// Planned start then.
    planned_start: Option<DateTime<Utc>>,
    /// Planned end then.
    planned_end: Option<DateTime<Utc>>,
    /// When it had been submitted.
    submitted_at: Option<DateTime<Utc>>,
    /// When it had been authorized.
    authorized_at: Option<DateTime<Utc>>,
    /// When implementation had started.
    started_at: Option<DateTime<Utc>>,
    /// When it had completed.
    completed_at: Option<DateTime<Utc>>,
    /// When it had been closed.
    closed_at: Option<DateTime<Utc>>,
    /// Why it had been cancelled.
    cancellation_reason: Option<String>,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// When it had last changed.
    updated_at: DateTime<Utc>,
    /// Its row version then.
    version: i32,
    #[graphql(skip)]
    row: change::Model,
    #[graphql(skip)]
    at: DateTime<Utc>,
}

impl ChangeAsOf {
    fn new(m: change::Model, at: DateTime<Utc>) -> Self {
        Self {
            id: encode(Kind::Change, m.id),
            number: m.number.clone(),
            title: m.title.clone(),
            description: m.description.clone(),
            category: m.category.into(),
            change_type: m.change_type.into(),
            risk: m.risk.into(),
            status: m.status.into(),
            outcome: m.outcome.map(Into::into),
            planned_start: m.planned_start,
            planned_end: m.planned_end,
            submitted_at: m.submitted_at,
            authorized_at: m.authorized_at,
            started_at: m.started_at,
            completed_at: m.completed_at,
            closed_at: m.closed_at,
            cancellation_reason: m.cancellation_reason.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
            row: m,
            at,
        }
    }
}

#[ComplexObject]
impl ChangeAsOf {
    /// Who requested it (a person as they are today).
    async fn requested_by(&self, ctx: &Context<'_>) -> Result<Person> {
        Ok(Person(
            required::<person::Entity>(ctx, self.row.requested_by_id).await?,
        ))
    }
    /// The approvals and rejections recorded by that instant, in order.
    async fn approvals(&self, ctx: &Context<'_>) -> Result<Vec<Approval>> {
        let rows = loader(ctx)
            .load_one(ApprovalsAt(self.at, self.row.id))
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        Ok(rows.iter().cloned().map(Approval).collect())
    }
    /// The releases it belonged to at that instant, each as it stood then.
    async fn releases(&self, ctx: &Context<'_>) -> Result<Vec<ReleaseAsOf>> {
        let ids = loader(ctx)
            .load_one(MembersAt {
                at: self.at,
                of_release: false,
                id: self.row.id,
            })
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        let releases = ids.iter().map(|id| release_at(ctx, self.at, *id));
        let found = futures_util::future::try_join_all(releases).await?;
        Ok(found.into_iter().flatten().collect())
    }
}

/// A release as it stood at a snapshot's instant.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ReleaseAsOf {
    /// Opaque global ID (the release's, as today).
    id: ID,
    /// Name then.
    name: String,
    /// Version label then.
    version: String,
    /// Type then.
    #[graphql(name = "type")]
    release_type: ReleaseType,
    /// Lifecycle state then.
    status: ReleaseStatus,
    /// Planned date then.
    planned_date: Option<DateTime<Utc>>,
    /// Planned deployment window start then.
    planned_start: Option<DateTime<Utc>>,
    /// Planned deployment window end then.
    planned_end: Option<DateTime<Utc>>,
    /// When it had been deployed.
    deployed_at: Option<DateTime<Utc>>,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// When it had last changed.
    updated_at: DateTime<Utc>,
    /// Its row version then.
    revision: i32,
    #[graphql(skip)]
    row_id: i64,
    #[graphql(skip)]
    at: DateTime<Utc>,
}

impl ReleaseAsOf {
    fn new(m: release::Model, at: DateTime<Utc>) -> Self {
        Self {
            id: encode(Kind::Release, m.id),
            name: m.name,
            version: m.version,
            release_type: m.release_type.into(),
            status: m.status.into(),
            planned_date: m.planned_date,
            planned_start: m.planned_start,
            planned_end: m.planned_end,
            deployed_at: m.deployed_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
            revision: m.revision,
            row_id: m.id,
            at,
        }
    }
}

#[ComplexObject]
impl ReleaseAsOf {
    /// The changes it held at that instant, each as it stood then.
    async fn changes(&self, ctx: &Context<'_>) -> Result<Vec<ChangeAsOf>> {
        let ids = loader(ctx)
            .load_one(MembersAt {
                at: self.at,
                of_release: true,
                id: self.row_id,
            })
            .await
            .map_err(AppError::from)?
            .unwrap_or_default();
        Ok(
            futures_util::future::try_join_all(ids.iter().map(|id| change_at(ctx, self.at, *id)))
                .await?
                .into_iter()
                .flatten()
                .collect(),
        )
    }
}

/// A service as it stood at a snapshot's instant.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ServiceAsOf {
    /// Opaque global ID (the service's, as today).
    id: ID,
    /// Key.
    key: String,
    /// Name then.
    name: String,
    /// Description then.
    description: String,
    /// Lifecycle then.
    lifecycle: ServiceLifecycle,
    /// Criticality then.
    criticality: Criticality,
    /// Scope then.
    scope: Option<String>,
    /// Its row version then.
    version: i32,
    #[graphql(skip)]
    owner_id: Option<i64>,
}

impl From<service::Model> for ServiceAsOf {
    fn from(m: service::Model) -> Self {
        Self {
            id: encode(Kind::Service, m.id),
            key: m.key,
            name: m.name,
            description: m.description,
            lifecycle: m.lifecycle.into(),
            criticality: m.criticality.into(),
            scope: m.scope,
            version: m.version,
            owner_id: m.owner_id,
        }
    }
}

#[ComplexObject]
impl ServiceAsOf {
    /// Its owner then (a person as they are today).
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.owner_id)
            .await?
            .map(Person))
    }
}

/// A service offering as it stood at a snapshot's instant.
#[derive(SimpleObject)]
pub struct ServiceOfferingAsOf {
    /// Opaque global ID (the offering's, as today).
    id: ID,
    /// Key.
    key: String,
    /// Name then.
    name: String,
    /// Description then.
    description: String,
    /// Target consumer group then.
    target_consumer_group: String,
    /// Status then.
    status: OfferingStatus,
    /// Its row version then.
    version: i32,
}

impl From<service_offering::Model> for ServiceOfferingAsOf {
    fn from(m: service_offering::Model) -> Self {
        Self {
            id: encode(Kind::ServiceOffering, m.id),
            key: m.key,
            name: m.name,
            description: m.description,
            target_consumer_group: m.target_consumer_group,
            status: m.status.into(),
            version: m.version,
        }
    }
}

/// A project as it stood at a snapshot's instant.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ProjectAsOf {
    /// Opaque global ID (the project's, as today).
    id: ID,
    /// Code.
    code: String,
    /// Name then.
    name: String,
    /// Status then.
    status: ProjectStatus,
    /// Its row version then.
    version: i32,
    #[graphql(skip)]
    manager_id: Option<i64>,
}

impl From<project::Model> for ProjectAsOf {
    fn from(m: project::Model) -> Self {
        Self {
            id: encode(Kind::Project, m.id),
            code: m.code,
            name: m.name,
            status: m.status.into(),
            version: m.version,
            manager_id: m.manager_id,
        }
    }
}

#[ComplexObject]
impl ProjectAsOf {
    /// Its manager then (a person as they are today).
    async fn manager(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.manager_id)
            .await?
            .map(Person))
    }
}
