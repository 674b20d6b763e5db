//! The dependency graph between services: how far a change to some services may reach.
//!
//! A change to a service reaches the services that depend on it, then theirs, and so on.
//! [`blast_radius`] walks those edges in one recursive statement for any number of origins,
//! depth-bounded and safe on cycles, and keeps for each service reached its shortest
//! distance and one step back along a shortest path, from which [`Radius::path`] rebuilds
//! the whole path without another query.

use std::collections::{HashMap, HashSet};

use entity::enums::Criticality;
use entity::{service, service_offering};
use sea_orm::{ConnectionTrait, Statement};

use super::page::id_in_sql;
use super::rows::{Columns, Decoder};
use crate::error::{AppError, AppResult};

/// Deepest walk a client may ask for.
pub const MAX_DEPTH: u32 = 10;

/// Depth of the walks that judge a change (transitive conflicts, risk, impacted offerings).
pub const CHANGE_DEPTH: u32 = 3;

/// Where walks start: at services themselves, or at every service a change touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    Service,
    Change,
}

/// A service a walk reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached {
    /// The whole row, so the service's fields need no other statement.
    pub service: service::Model,
    /// Shortest number of dependency edges from an origin service (0: an origin itself).
    pub distance: u32,
}

impl Reached {
    pub fn id(&self) -> i64 {
        self.service.id
    }
    pub fn key(&self) -> &str {
        &self.service.key
    }
    pub fn criticality(&self) -> Criticality {
        self.service.criticality
    }
}

/// The step back along a shortest path, by service (see [`Radius::steps`]).
pub type Steps = HashMap<i64, i64>;

/// Every service a change to an origin may reach, each once.
#[derive(Clone, Debug, Default)]
pub struct Radius {
    pub depth: u32,
    /// By distance, then key; the origin services (distance 0) first.
    pub services: Vec<Reached>,
    index: HashMap<i64, usize>,
}

impl Radius {
    fn new(depth: u32, mut services: Vec<Reached>) -> Self {
        services.sort_by(|a, b| (a.distance, a.key()).cmp(&(b.distance, b.key())));
        let index = services
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id(), i))
            .collect();
        Self {
            depth,
            services,
            index,
        }
    }

    /// The services the walk started from.
    pub fn origins(&self) -> impl Iterator<Item = &Reached> {
        self.services.iter().filter(|r| r.distance == 0)
    }

    /// The services reached beyond the origins.
    pub fn reached(&self) -> impl Iterator<Item = &Reached> {
        self.services.iter().filter(|r| r.distance > 0)
    }

    /// A service of the radius (an origin or reached).
    pub fn get(&self, service_id: i64) -> Option<&Reached> {
        self.index.get(&service_id).map(|&i| &self.services[i])
    }

    /// For each service reached, the service one step closer to an origin on a shortest
    /// path: among those it depends on (`depends_on`, see [`depends_on`]) one a step
    /// closer, the lowest id, so paths are stable.
    pub fn steps(&self, depends_on: &HashMap<i64, Vec<i64>>) -> Steps {
        self.reached()
            .filter_map(|r| {
                let closer = depends_on
                    .get(&r.id())?
                    .iter()
                    .filter(|d| self.get(**d).is_some_and(|v| v.distance + 1 == r.distance))
                    .min()?;
                Some((r.id(), *closer))
            })
            .collect()
    }

    /// The keys of one shortest path from an origin service to `service_id` (both ends
    /// included), through `steps`; empty when the service is not in the radius.
    pub fn path(&self, service_id: i64, steps: &Steps) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = self.get(service_id);
        while let Some(r) = at {
            out.push(r.service.key.clone());
            // Each step back is one closer to the origin, so this ends.
            at = steps
                .get(&r.id())
                .and_then(|v| self.get(*v))
                .filter(|v| v.distance < r.distance);
        }
        out.reverse();
        out
    }

    /// Ids of every service in the radius, origins included.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.services.iter().map(Reached::id)
    }
}

/// The blast radius of each of `ids` (services or changes, by `origin`) to `depth` edges,
/// in one statement whatever the number of origins and the size of the graph.
///
/// The recursive part keeps `(origin, service, distance)` rows under `UNION`, which drops
/// a row already found: a cycle can only add rows at a greater distance, and the depth
/// bound stops those, so the walk ends on any graph, after at most one row per service and
/// distance. Each service then keeps its shortest distance and its row. Paths cost a
/// statement of their own ([`depends_on`], [`Radius::steps`]), only when asked for.
pub async fn blast_radius<C: ConnectionTrait>(
    db: &C,
    origin: Origin,
    ids: &[i64],
    depth: u32,
) -> AppResult<HashMap<i64, Radius>> {
    let mut out: HashMap<i64, Radius> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let (seed, values) = match origin {
        Origin::Service => {
            let (cond, value) = id_in_sql("s.id", ids, backend, 1);
            (
                format!("SELECT s.id, s.id, 0 FROM service s WHERE {cond}"),
                value,
            )
        }
        Origin::Change => {
            let (cond, value) = id_in_sql("cs.change_id", ids, backend, 1);
            (
                format!(
                    "SELECT cs.change_id, cs.service_id, 0 FROM change_service cs WHERE {cond}"
                ),
                value,
            )
        }
    };
    // The depth is a checked small integer, so it goes into the text and the statement
    // stays one prepared plan per depth.
    let depth = depth.min(MAX_DEPTH);
    let sql = format!(
        "WITH RECURSIVE reach(origin, service_id, distance) AS ( \
           {seed} \
           UNION \
           SELECT r.origin, d.service_id, r.distance + 1 \
           FROM reach r JOIN service_dependency d ON d.depends_on_id = r.service_id \
           WHERE r.distance < {depth} \
         ), \
         nearest AS ( \
           SELECT origin, service_id, MIN(distance) AS distance FROM reach \
           GROUP BY origin, service_id \
         ) \
         SELECT s.*, n.origin AS __origin, n.distance AS __distance \
         FROM nearest n JOIN service s ON s.id = n.service_id"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [values]))
        .await?;
    let mut found: HashMap<i64, Vec<Reached>> = HashMap::new();
    let mut decoder = Decoder::<service::Model>::new(Columns::ALL);
    for row in &rows {
        let distance: i32 = row.try_get("", "__distance")?;
        let distance = u32::try_from(distance)
            .map_err(|_| AppError::Internal(format!("negative distance {distance}")))?;
        found
            .entry(row.try_get("", "__origin")?)
            .or_default()
            .push(Reached {
                service: decoder.decode(row)?,
                distance,
            });
    }
    for id in ids {
        let services = found.remove(id).unwrap_or_default();
        out.insert(*id, Radius::new(depth, services));
    }
    Ok(out)
}

/// The services each of `services` depends on, in one statement.
pub async fn depends_on<C: ConnectionTrait>(
    db: &C,
    services: &[i64],
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    if services.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let (cond, value) = id_in_sql("service_id", services, backend, 1);
    let sql = format!("SELECT service_id, depends_on_id FROM service_dependency WHERE {cond}");
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [value]))
        .await?;
    for row in rows {
        out.entry(row.try_get("", "service_id")?)
            .or_default()
            .push(row.try_get("", "depends_on_id")?);
    }
    Ok(out)
}

/// The offerings holding each of `services`, in one statement.
pub async fn offerings_holding<C: ConnectionTrait>(
    db: &C,
    services: &[i64],
) -> AppResult<HashMap<i64, Vec<service_offering::Model>>> {
    let mut out: HashMap<i64, Vec<service_offering::Model>> = HashMap::new();
    if services.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let (cond, value) = id_in_sql("os.service_id", services, backend, 1);
    let sql = format!(
        "SELECT o.*, os.service_id AS __service FROM service_offering o \
         JOIN offering_service os ON os.offering_id = o.id WHERE {cond} ORDER BY o.id"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [value]))
        .await?;
    let mut decoder = Decoder::<service_offering::Model>::new(Columns::ALL);
    for row in &rows {
        let service: i64 = row.try_get("", "__service")?;
        out.entry(service).or_default().push(decoder.decode(row)?);
    }
    Ok(out)
}

/// The offerings holding any service of `radius`, each once, by id.
pub fn offerings_of(
    radius: &Radius,
    holding: &HashMap<i64, Vec<service_offering::Model>>,
) -> Vec<service_offering::Model> {
    let mut seen = HashSet::new();
    let mut out: Vec<service_offering::Model> = radius
        .ids()
        .flat_map(|s| holding.get(&s).into_iter().flatten())
        .filter(|o| seen.insert(o.id))
        .cloned()
        .collect();
    out.sort_by_key(|o| o.id);
    out
}

/// How often changes on some services went wrong: of the changes other than the one
/// judged that touched any of its services and have an outcome, how many FAILED or were
/// BACKED_OUT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureHistory {
    pub completed: i64,
    pub failed: i64,
}

/// The [`FailureHistory`] of the services of each of `changes`, in one statement.
pub async fn failure_history<C: ConnectionTrait>(
    db: &C,
    changes: &[i64],
) -> AppResult<HashMap<i64, FailureHistory>> {
    let mut out = HashMap::new();
    if changes.is_empty() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let (cond, value) = id_in_sql("mine.change_id", changes, backend, 1);
    let sql = format!(
        "SELECT mine.change_id AS change_id, COUNT(DISTINCT o.id) AS completed, \
                COUNT(DISTINCT CASE WHEN o.outcome IN ('FAILED', 'BACKED_OUT') THEN o.id END) \
                  AS failed \
         FROM change_service mine \
         JOIN change_service other ON other.service_id = mine.service_id \
           AND other.change_id <> mine.change_id \
         JOIN change o ON o.id = other.change_id \
         WHERE {cond} AND o.outcome IS NOT NULL \
         GROUP BY mine.change_id"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [value]))
        .await?;
    for row in rows {
        out.insert(
            row.try_get::<i64>("", "change_id")?,
            FailureHistory {
                completed: row.try_get("", "completed")?,
                failed: row.try_get("", "failed")?,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reached(id: i64, distance: u32) -> Reached {
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Reached {
            service: service::Model {
                id,
                key: format!("s{id}"),
                name: format!("Service {id}"),
                description: String::new(),
                lifecycle: entity::enums::ServiceLifecycle::Live,
                criticality: Criticality::Low,
                owner_id: None,
                created_at: at,
                updated_at: at,
                version: 1,
                scope: None,
            },
            distance,
        }
    }

    #[test]
    fn a_path_runs_from_the_origin_to_the_service_through_each_step_back() {
        let radius = Radius::new(
            3,
            vec![reached(3, 2), reached(1, 0), reached(2, 1), reached(4, 1)],
        );
        // 3 depends on 2 and 4 (both a step closer) and on 9 (outside): the lowest wins.
        let depends_on = HashMap::from([(3, vec![9, 4, 2]), (2, vec![1]), (4, vec![1, 3])]);
        let steps = radius.steps(&depends_on);
        assert_eq!(steps, HashMap::from([(3, 2), (2, 1), (4, 1)]));
        assert_eq!(radius.path(3, &steps), ["s1", "s2", "s3"]);
        assert_eq!(radius.path(1, &steps), ["s1"]);
        assert!(radius.path(9, &steps).is_empty());
        let order: Vec<i64> = radius.ids().collect();
        assert_eq!(order, [1, 2, 4, 3]);
    }
}
