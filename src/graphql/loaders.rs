//! Batched loaders: every relationship field of the schema goes through one of these, so a
//! request costs one statement per (field, arguments) pair, whatever the number of parents.
//! One [`Loaders`] per request, with a per-request cache.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::{DateTime, Utc};
use entity::{approval, change, process, process_role_assignment, release, service_offering};
use futures_util::future::{BoxFuture, try_join_all};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::ActorRoles;
use crate::error::AppError;
use crate::store::blackouts::{self, Exposure, Freeze};
use crate::store::graph::{self, FailureHistory, Origin, Radius, Steps};
use crate::store::listing::{Filter, List};
use crate::store::lookup::{self, Children, HasId, Tally, Upcoming};
use crate::store::page::{self, ModelOf, PageRows};
use crate::store::rows::{Columns, Decode};
use crate::store::{Db, history, relations};

/// The request's loader; resolvers reach it through [`loader`].
pub type AppLoader = DataLoader<Loaders, HashMapCache>;

/// Error of every loader: shared, since one failed batch fails every key in it.
pub type LoadError = Arc<AppError>;

/// Scheduler turns a batch lets pass before it takes its keys.
///
/// An operation is resolved by one task on one worker thread, and the keys of one level of a
/// query (the releases of every change on the page, say) are all asked for while that task
/// runs — except that the engine yields now and then while it resolves a long list. A batch
/// that waits for a few turns of the scheduler therefore holds the whole level, without
/// idling for a timer: the request goes on the moment its resolvers are done asking.
const BATCH_TURNS: usize = 3;

/// Runs a batch after [`BATCH_TURNS`] turns of the scheduler.
fn spawn_batch(batch: BoxFuture<'static, ()>) {
    tokio::spawn(async move {
        for _ in 0..BATCH_TURNS {
            tokio::task::yield_now().await;
        }
        batch.await;
    });
}

/// Creates the loader of one request: keys asked for in the same few turns of the scheduler,
/// and then within `delay`, share a statement.
pub fn new_loader(db: Db, delay: Duration) -> Arc<AppLoader> {
    // A portal page easily needs the releases of over a thousand changes; one statement
    // for them all beats the default cap of 1,000 keys. Both engines take far more bound
    // parameters than this.
    Arc::new(
        DataLoader::with_cache(Loaders { db }, spawn_batch, HashMapCache::default())
            .max_batch_size(MAX_BATCH)
            .delay(delay),
    )
}

/// Creates the loader every subscription of an instance shares. It batches but never
/// caches: an event reaches all subscribers at once, so the hundred of them asking for the
/// same change within the batching window cost one statement, and each event is resolved
/// against the rows as they are now. Loaders hold no per-viewer state, so sharing is safe.
pub fn shared_loader(db: DatabaseConnection, delay: Duration) -> Arc<AppLoader> {
    let loader = new_loader(Db::Pool(db), delay);
    loader.enable_all_cache(false);
    loader
}

/// Most keys one loader statement carries.
pub const MAX_BATCH: usize = 10_000;

/// Handle to the database for the loader implementations.
pub struct Loaders {
    db: Db,
}

fn shared(err: AppError) -> LoadError {
    Arc::new(err)
}

// ------------------------------------------------------------------ pages and counts

/// One page of a list for one parent (`None` for a top-level list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageKey<F: Filter> {
    pub parent: Option<i64>,
    pub list: List<F>,
}

/// The loader hashes each key several times, and the keys of one request's batch are one
/// list for many parents: the parent alone tells them apart (equal keys still hash equal),
/// without hashing every filter field of the list each time.
impl<F: Filter> Hash for PageKey<F> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parent.hash(state);
    }
}

/// The total count of a list for one parent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CountKey<F: Filter>(pub PageKey<F>);

/// Groups keys by their list, so that each distinct list costs one statement for all parents.
fn by_list<F: Filter>(
    keys: impl Iterator<Item = PageKey<F>>,
) -> HashMap<List<F>, Vec<Option<i64>>> {
    let mut groups: HashMap<List<F>, Vec<Option<i64>>> = HashMap::new();
    for k in keys {
        groups.entry(k.list).or_default().push(k.parent);
    }
    groups
}

fn parent_ids(parents: &[Option<i64>]) -> Option<Vec<i64>> {
    let ids: Vec<i64> = parents.iter().flatten().copied().collect();
    (!ids.is_empty()).then_some(ids)
}

impl<F> Loader<PageKey<F>> for Loaders
where
    F: Filter,
    ModelOf<List<F>>: Clone + Send + Sync,
{
    type Value = Arc<PageRows<ModelOf<List<F>>>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PageKey<F>],
    ) -> Result<HashMap<PageKey<F>, Self::Value>, LoadError> {
        let groups = by_list(keys.iter().cloned());
        let results = try_join_all(groups.into_iter().map(|(list, parents)| async move {
            let ids = parent_ids(&parents);
            let pages = page::fetch_pages(&self.db, &list, ids.as_deref())
                .await
                .map_err(shared)?;
            Ok::<_, LoadError>((list, parents, pages))
        }))
        .await?;
        let mut out = HashMap::new();
        for (list, parents, mut pages) in results {
            for parent in parents {
                let rows = pages.remove(&parent).unwrap_or_default();
                out.insert(
                    PageKey {
                        parent,
                        list: list.clone(),
                    },
                    Arc::new(rows),
                );
            }
        }
        Ok(out)
    }
}

impl<F: Filter> Loader<CountKey<F>> for Loaders {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[CountKey<F>]) -> Result<HashMap<CountKey<F>, i64>, LoadError> {
        let groups = by_list(keys.iter().map(|k| k.0.clone()));
        let results = try_join_all(groups.into_iter().map(|(list, parents)| async move {
            let ids = parent_ids(&parents);
            let counts = page::count(&self.db, &list, ids.as_deref())
                .await
                .map_err(shared)?;
            Ok::<_, LoadError>((list, parents, counts))
        }))
        .await?;
        let mut out = HashMap::new();
        for (list, parents, counts) in results {
            for parent in parents {
                let n = counts.get(&parent).copied().unwrap_or(0);
                out.insert(
                    CountKey(PageKey {
                        parent,
                        list: list.clone(),
                    }),
                    n,
                );
            }
        }
        Ok(out)
    }
}

// ------------------------------------------------------------------ rows by id

/// A row of entity `E` by id.
pub struct ById<E>(pub i64, PhantomData<fn() -> E>);

impl<E> ById<E> {
    /// Key of row `id`.
    pub fn new(id: i64) -> Self {
        Self(id, PhantomData)
    }
}
impl<E> Clone for ById<E> {
    fn clone(&self) -> Self {
        Self::new(self.0)
    }
}
impl<E> PartialEq for ById<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for ById<E> {}
impl<E> Hash for ById<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<E> Loader<ById<E>> for Loaders
where
    E: EntityTrait,
    E::Model: HasId + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[ById<E>]) -> Result<HashMap<ById<E>, E::Model>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = lookup::by_ids::<E, _>(&self.db, &ids)
            .await
            .map_err(shared)?;
        Ok(rows.into_iter().map(|(id, m)| (ById::new(id), m)).collect())
    }
}

// ------------------------------------------------------------------ children lists

/// All children of entity `E` of one parent, through a [`Children`] relationship.
pub struct ChildrenOf<E> {
    pub spec: Children,
    pub parent: i64,
    /// The columns of the children to read.
    pub columns: Columns,
    _entity: PhantomData<fn() -> E>,
}

impl<E> ChildrenOf<E> {
    /// Key of the children of `parent` through `spec`, read whole.
    pub fn new(spec: Children, parent: i64) -> Self {
        Self::narrowed(spec, parent, Columns::ALL)
    }

    /// Key of the children of `parent` through `spec`, reading only `columns` of them.
    pub fn narrowed(spec: Children, parent: i64, columns: Columns) -> Self {
        Self {
            spec,
            parent,
            columns,
            _entity: PhantomData,
        }
    }
}
impl<E> Clone for ChildrenOf<E> {
    fn clone(&self) -> Self {
        Self::narrowed(self.spec, self.parent, self.columns)
    }
}
impl<E> PartialEq for ChildrenOf<E> {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec && self.parent == other.parent && self.columns == other.columns
    }
}
impl<E> Eq for ChildrenOf<E> {}
impl<E> Hash for ChildrenOf<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.spec.hash(state);
        self.parent.hash(state);
    }
}

impl<E> Loader<ChildrenOf<E>> for Loaders
where
    E: EntityTrait,
    E::Model: Decode + Clone + Send + Sync,
{
    type Value = Arc<Vec<E::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ChildrenOf<E>],
    ) -> Result<HashMap<ChildrenOf<E>, Self::Value>, LoadError> {
        let mut groups: HashMap<(Children, Columns), Vec<i64>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.spec, k.columns))
                .or_default()
                .push(k.parent);
        }
        let results = try_join_all(groups.into_iter().map(
            |((spec, columns), parents)| async move {
                let found = lookup::children::<E, _>(&self.db, spec, columns, &parents)
                    .await
                    .map_err(shared)?;
                Ok::<_, LoadError>((spec, columns, parents, found))
            },
        ))
        .await?;
        let mut out = HashMap::new();
        for (spec, columns, parents, mut found) in results {
            for p in parents {
                out.insert(
                    ChildrenOf::narrowed(spec, p, columns),
                    Arc::new(found.remove(&p).unwrap_or_default()),
                );
            }
        }
        Ok(out)
    }
}

// ------------------------------------------------------------------ aggregates

/// The offerings impacted by a change or a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImpactedOfferings {
    OfChange(i64),
    OfRelease(i64),
}

impl Loader<ImpactedOfferings> for Loaders {
    type Value = Arc<Vec<service_offering::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ImpactedOfferings],
    ) -> Result<HashMap<ImpactedOfferings, Self::Value>, LoadError> {
        let changes: Vec<i64> = keys
            .iter()
            .filter_map(|k| match k {
                ImpactedOfferings::OfChange(id) => Some(*id),
                ImpactedOfferings::OfRelease(_) => None,
            })
            .collect();
        let releases: Vec<i64> = keys
            .iter()
            .filter_map(|k| match k {
                ImpactedOfferings::OfRelease(id) => Some(*id),
                ImpactedOfferings::OfChange(_) => None,
            })
            .collect();
        let mut out = HashMap::new();
        for (ids, services, key) in [
            (
                changes,
                relations::services_of_change(),
                ImpactedOfferings::OfChange as fn(i64) -> ImpactedOfferings,
            ),
            (
                releases,
                relations::services_of_release(),
                ImpactedOfferings::OfRelease,
            ),
        ] {
            if ids.is_empty() {
                continue;
            }
            let mut found = lookup::impacted_offerings(&self.db, services, &ids)
                .await
                .map_err(shared)?;
            for id in ids {
                out.insert(key(id), Arc::new(found.remove(&id).unwrap_or_default()));
            }
        }
        Ok(out)
    }
}

/// A breakdown of one project's changes or releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProjectTally(pub Tally, pub i64);

impl Loader<ProjectTally> for Loaders {
    type Value = Arc<Vec<(String, i64)>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ProjectTally],
    ) -> Result<HashMap<ProjectTally, Self::Value>, LoadError> {
        let mut by_tally: HashMap<Tally, Vec<i64>> = HashMap::new();
        for k in keys {
            by_tally.entry(k.0).or_default().push(k.1);
        }
        let mut out = HashMap::new();
        for (tally, ids) in by_tally {
            let mut found = lookup::project_tallies(&self.db, tally, &ids)
                .await
                .map_err(shared)?;
            for id in ids {
                out.insert(
                    ProjectTally(tally, id),
                    Arc::new(found.remove(&id).unwrap_or_default()),
                );
            }
        }
        Ok(out)
    }
}

// ------------------------------------------------------------------ the viewer's roles

/// The process roles a person holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RolesOf(pub i64);

impl Loader<RolesOf> for Loaders {
    type Value = Arc<ActorRoles>;
    type Error = LoadError;

    async fn load(&self, keys: &[RolesOf]) -> Result<HashMap<RolesOf, Self::Value>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = process_role_assignment::Entity::find()
            .filter(process_role_assignment::Column::PersonId.is_in(ids.iter().copied()))
            .find_also_related(process::Entity)
            .all(&self.db)
            .await
            .map_err(|e| shared(e.into()))?;
        Ok(ids
            .into_iter()
            .map(|id| {
                let held = rows
                    .iter()
                    .filter(|(a, _)| a.person_id == id)
                    .filter_map(|(a, p)| {
                        p.as_ref()
                            .map(|p| (a.process_id, p.key.clone(), a.role, a.scope.clone()))
                    });
                (RolesOf(id), Arc::new(ActorRoles::from_rows(held)))
            })
            .collect())
    }
}

// ------------------------------------------------------------------ release sizes

/// How many changes the active release of a change packages (0 without one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActiveReleaseSize(pub i64);

impl Loader<ActiveReleaseSize> for Loaders {
    type Value = i64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ActiveReleaseSize],
    ) -> Result<HashMap<ActiveReleaseSize, i64>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let sizes = lookup::active_release_sizes(&self.db, &ids)
            .await
            .map_err(shared)?;
        Ok(ids
            .into_iter()
            .map(|id| (ActiveReleaseSize(id), sizes.get(&id).copied().unwrap_or(0)))
            .collect())
    }
}

// ------------------------------------------------------------------ what is coming for an offering

/// Up to `1` open changes touching the services of offering `0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenChangesOf(pub i64, pub u64);

/// Up to `1` releases not yet deployed delivering to the services of offering `0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UpcomingReleasesOf(pub i64, pub u64);

/// Loads [`lookup::upcoming`] for keys `(offering, limit)`, one statement per limit.
async fn upcoming<M: Decode + Send + Sync>(
    db: &Db,
    what: Upcoming,
    keys: impl Iterator<Item = (i64, u64)>,
) -> Result<HashMap<(i64, u64), Arc<Vec<M>>>, LoadError> {
    let mut by_limit: HashMap<u64, Vec<i64>> = HashMap::new();
    for (offering, limit) in keys {
        by_limit.entry(limit).or_default().push(offering);
    }
    let mut out = HashMap::new();
    for (limit, ids) in by_limit {
        let mut found = lookup::upcoming::<M, _>(db, what, &ids, limit)
            .await
            .map_err(shared)?;
        for id in ids {
            out.insert((id, limit), Arc::new(found.remove(&id).unwrap_or_default()));
        }
    }
    Ok(out)
}

impl Loader<OpenChangesOf> for Loaders {
    type Value = Arc<Vec<change::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OpenChangesOf],
    ) -> Result<HashMap<OpenChangesOf, Self::Value>, LoadError> {
        let found = upcoming(&self.db, Upcoming::Changes, keys.iter().map(|k| (k.0, k.1))).await?;
        Ok(found
            .into_iter()
            .map(|((o, l), v)| (OpenChangesOf(o, l), v))
            .collect())
    }
}

impl Loader<UpcomingReleasesOf> for Loaders {
    type Value = Arc<Vec<release::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[UpcomingReleasesOf],
    ) -> Result<HashMap<UpcomingReleasesOf, Self::Value>, LoadError> {
        let found = upcoming(
            &self.db,
            Upcoming::Releases,
            keys.iter().map(|k| (k.0, k.1)),
        )
        .await?;
        Ok(found
            .into_iter()
            .map(|((o, l), v)| (UpcomingReleasesOf(o, l), v))
            .collect())
    }
}

// ------------------------------------------------------------------ freezes

/// A planned window, as the rows hold it.
type Planned = (
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

/// The blackout window work would run into if it started now and lasted as long as its
/// planned window: the work of a change or of a release, on the services it touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FreezeOf {
    Change { id: i64, planned: Planned },
    Release { id: i64, planned: Planned },
}

impl Loader<FreezeOf> for Loaders {
    type Value = Arc<Freeze>;
    type Error = LoadError;

    async fn load(&self, keys: &[FreezeOf]) -> Result<HashMap<FreezeOf, Arc<Freeze>>, LoadError> {
        // Most of the time no window is near: then one statement answers every key.
        let now = crate::domain::now();
        let longest = keys
            .iter()
            .map(|key| match key {
                FreezeOf::Change { planned, .. } | FreezeOf::Release { planned, .. } => {
                    Exposure::from_now(Vec::new(), now, *planned).end
                }
            })
            .max()
            .unwrap_or(now);
        let windows = blackouts::overlapping(&self.db, now, longest, None)
            .await
            .map_err(shared)?;
        if windows.is_empty() {
            return Ok(HashMap::new());
        }
        let (mut changes, mut releases) = (Vec::new(), Vec::new());
        for key in keys {
            match key {
                FreezeOf::Change { id, .. } => changes.push(*id),
                FreezeOf::Release { id, .. } => releases.push(*id),
            }
        }
        let (of_changes, of_releases) = futures_util::try_join!(
            blackouts::services_of(&self.db, &changes),
            blackouts::services_of_releases(&self.db, &releases),
        )
        .map_err(shared)?;
        let work: Vec<(FreezeOf, Exposure)> = keys
            .iter()
            .map(|key| {
                let (services, planned) = match key {
                    FreezeOf::Change { id, planned } => (of_changes.get(id), planned),
                    FreezeOf::Release { id, planned } => (of_releases.get(id), planned),
                };
                let services = services.cloned().unwrap_or_default();
                (*key, Exposure::from_now(services, now, *planned))
            })
            .collect();
        Ok(blackouts::freezes_among(&self.db, &windows, &work)
            .await
            .map_err(shared)?
            .into_iter()
            .map(|(key, freeze)| (key, Arc::new(freeze)))
            .collect())
    }
}

// ------------------------------------------------------------------ the approval policy

/// The approval policy of change-management and its OWNERs: loaded once per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApprovalPolicy;

/// The rules of the approval policy, and who is OWNER of change-management.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub rules: Vec<entity::approval_rule::Model>,
    pub owners: Vec<i64>,
}

impl Loader<ApprovalPolicy> for Loaders {
    type Value = Arc<Policy>;
    type Error = LoadError;

    async fn load(
        &self,
        _: &[ApprovalPolicy],
    ) -> Result<HashMap<ApprovalPolicy, Arc<Policy>>, LoadError> {
        let (rules, owners) = futures_util::try_join!(
            async { Ok(entity::approval_rule::Entity::find().all(&self.db).await?) },
            crate::domain::access::owners_of(&self.db, crate::domain::access::CHANGE_MANAGEMENT),
        )
        .map_err(shared)?;
        Ok(HashMap::from([(
            ApprovalPolicy,
            Arc::new(Policy { rules, owners }),
        )]))
    }
}

// ------------------------------------------------------------------ the dependency graph

/// The blast radius of a service or of a change, to a depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Blast {
    pub origin: Origin,
    pub id: i64,
    pub depth: u32,
}

impl Loader<Blast> for Loaders {
    type Value = Arc<Radius>;
    type Error = LoadError;

    async fn load(&self, keys: &[Blast]) -> Result<HashMap<Blast, Arc<Radius>>, LoadError> {
        let mut groups: HashMap<(Origin, u32), Vec<i64>> = HashMap::new();
        for k in keys {
            groups.entry((k.origin, k.depth)).or_default().push(k.id);
        }
        let mut out = HashMap::new();
        for ((origin, depth), ids) in groups {
            let found = graph::blast_radius(&self.db, origin, &ids, depth)
                .await
                .map_err(shared)?;
            for (id, radius) in found {
                out.insert(Blast { origin, id, depth }, Arc::new(radius));
            }
        }
        Ok(out)
    }
}

/// The offerings that hold a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OfferingsHolding(pub i64);

impl Loader<OfferingsHolding> for Loaders {
    type Value = Arc<Vec<service_offering::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OfferingsHolding],
    ) -> Result<HashMap<OfferingsHolding, Self::Value>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = graph::offerings_holding(&self.db, &ids)
            .await
            .map_err(shared)?;
        Ok(ids
            .into_iter()
            .map(|id| {
                let offerings = found.remove(&id).unwrap_or_default();
                (OfferingsHolding(id), Arc::new(offerings))
            })
            .collect())
    }
}

/// How the past changes on a change's services ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailuresAround(pub i64);

impl Loader<FailuresAround> for Loaders {
    type Value = FailureHistory;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FailuresAround],
    ) -> Result<HashMap<FailuresAround, FailureHistory>, LoadError> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = graph::failure_history(&self.db, &ids)
            .await
            .map_err(shared)?;
        Ok(ids
            .into_iter()
            .map(|id| (FailuresAround(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

/// The steps back along shortest paths in a blast radius (the radius rides along; the
/// blast names it).
#[derive(Clone, Debug)]
pub struct StepsOf {
    pub blast: Blast,
    pub radius: Arc<Radius>,
}

impl PartialEq for StepsOf {
    fn eq(&self, other: &Self) -> bool {
        self.blast == other.blast
    }
}

impl Eq for StepsOf {}

impl Hash for StepsOf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.blast.hash(state);
    }
}

impl Loader<StepsOf> for Loaders {
    type Value = Arc<Steps>;
    type Error = LoadError;

    async fn load(&self, keys: &[StepsOf]) -> Result<HashMap<StepsOf, Arc<Steps>>, LoadError> {
        let ids: Vec<i64> = keys
            .iter()
            .flat_map(|k| k.radius.ids())
            .collect::<std::collections::BTreeSet<i64>>()
            .into_iter()
            .collect();
        let depends_on = graph::depends_on(&self.db, &ids).await.map_err(shared)?;
        Ok(keys
            .iter()
            .map(|k| (k.clone(), Arc::new(k.radius.steps(&depends_on))))
            .collect())
    }
}

// ------------------------------------------------------------------ the portfolio as of an instant

/// The row image of an object at an instant (see [`history::images_at`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageAt {
    pub at: DateTime<Utc>,
    pub entity_type: &'static str,
    pub id: i64,
}

impl Loader<ImageAt> for Loaders {
    /// `None`: deleted by then. Absent: not created yet.
    type Value = Option<Arc<serde_json::Value>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ImageAt],
    ) -> Result<HashMap<ImageAt, Option<Arc<serde_json::Value>>>, LoadError> {
        let mut by_at: HashMap<DateTime<Utc>, Vec<(String, i64)>> = HashMap::new();
        for k in keys {
            by_at
                .entry(k.at)
                .or_default()
                .push((k.entity_type.to_owned(), k.id));
        }
        let mut out = HashMap::new();
        for (at, of) in by_at {
            let images = history::images_at(&self.db, at, &of)
                .await
                .map_err(shared)?;
            for k in keys.iter().filter(|k| k.at == at) {
                if let Some(image) = images.get(&(k.entity_type.to_owned(), k.id)) {
                    out.insert(k.clone(), image.clone().map(Arc::new));
                }
            }
        }
        Ok(out)
    }
}

/// Release membership at an instant: the releases of change `id` (`of_release` false) or
/// the changes of release `id` (true).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembersAt {
    pub at: DateTime<Utc>,
    pub of_release: bool,
    pub id: i64,
}

impl Loader<MembersAt> for Loaders {
    type Value = Arc<Vec<i64>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MembersAt],
    ) -> Result<HashMap<MembersAt, Arc<Vec<i64>>>, LoadError> {
        let mut out = HashMap::new();
        let instants: std::collections::BTreeSet<_> = keys.iter().map(|k| k.at).collect();
        for at in instants {
            let of = |release: bool| -> Vec<i64> {
                keys.iter()
                    .filter(|k| k.at == at && k.of_release == release)
                    .map(|k| k.id)
                    .collect()
            };
            let pairs = history::memberships_at(&self.db, at, &of(true), &of(false))
                .await
                .map_err(shared)?;
            for k in keys.iter().filter(|k| k.at == at) {
                let members = pairs
                    .iter()
                    .filter_map(|&(release, change)| match k.of_release {
                        true => (release == k.id).then_some(change),
                        false => (change == k.id).then_some(release),
                    })
                    .collect();
                out.insert(*k, Arc::new(members));
            }
        }
        Ok(out)
    }
}

/// The approvals of a change recorded by an instant (approvals are never changed once
/// written, so their rows are their history).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ApprovalsAt(pub DateTime<Utc>, pub i64);

impl Loader<ApprovalsAt> for Loaders {
    type Value = Arc<Vec<approval::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ApprovalsAt],
    ) -> Result<HashMap<ApprovalsAt, Arc<Vec<approval::Model>>>, LoadError> {
        let changes: Vec<i64> = keys.iter().map(|k| k.1).collect();
        let rows = approval::Entity::find()
            .filter(approval::Column::ChangeId.is_in(changes))
            .order_by_asc(approval::Column::Id)
            .all(&self.db)
            .await
            .map_err(|e| shared(e.into()))?;
        Ok(keys
            .iter()
            .map(|k| {
                let of = rows
                    .iter()
                    .filter(|a| a.change_id == k.1 && a.decided_at <= k.0)
                    .cloned()
                    .collect();
                (*k, Arc::new(of))
            })
            .collect())
    }
}
