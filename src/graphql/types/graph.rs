//! The dependency graph seen from a service or a change: its blast radius and the risk
//! its reach suggests.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_graphql::{Context, Object, Result};
use entity::change;

use super::{Service, ServiceOffering};
use crate::domain::risk::{self, RiskInputs};
use crate::error::AppError;
use crate::graphql::enums::{Criticality, RiskLevel};
use crate::graphql::loader;
use crate::graphql::loaders::{Blast, FailuresAround, OfferingsHolding, StepsOf};
use crate::store::graph::{self, CHANGE_DEPTH, MAX_DEPTH, Origin, Radius, Reached, Steps};

/// The blast radius of a service or a change, through the request's loader.
pub async fn radius(ctx: &Context<'_>, origin: Origin, id: i64, depth: u32) -> Result<Arc<Radius>> {
    Ok(loader(ctx)
        .load_one(Blast { origin, id, depth })
        .await
        .map_err(AppError::from)?
        .unwrap_or_default())
}

/// The [`BlastRadius`] field of a service or a change, with its `depth` argument checked.
pub async fn blast_radius(
    ctx: &Context<'_>,
    origin: Origin,
    id: i64,
    depth: i32,
) -> Result<BlastRadius> {
    let depth = crate::graphql::bounded("depth", depth, MAX_DEPTH)?;
    let blast = Blast { origin, id, depth };
    Ok(BlastRadius {
        radius: radius(ctx, origin, id, depth).await?,
        blast,
    })
}

/// The offerings holding any service of `radius`, by id.
pub async fn offerings_in(
    ctx: &Context<'_>,
    radius: &Radius,
) -> Result<Vec<entity::service_offering::Model>> {
    let holding = loader(ctx)
        .load_many(radius.ids().map(OfferingsHolding))
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(|(k, v)| (k.0, v.as_ref().clone()))
        .collect();
    Ok(graph::offerings_of(radius, &holding))
}

/// Every service a change to some services may reach through the services that depend
/// on them, each once at its shortest distance, and the offerings and consumer groups
/// that would feel it.
#[derive(async_graphql::Description)]
pub struct BlastRadius {
    blast: Blast,
    radius: Arc<Radius>,
}

#[Object(use_type_description)]
impl BlastRadius {
    /// The most dependency edges followed from an origin.
    async fn depth(&self) -> i32 {
        self.radius.depth as i32
    }
    /// Where the walk started: the service itself, or every service the change touches.
    async fn origins(&self) -> Vec<Service> {
        self.radius
            .origins()
            .map(|r| Service(r.service.clone()))
            .collect()
    }
    /// Every service reached beyond the origins, each once, nearest first (by distance,
    /// then key). Cycles in the graph are walked once.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<ReachedService>> {
        let of = StepsOf {
            blast: self.blast,
            radius: self.radius.clone(),
        };
        // A radius may hold a thousand services: their paths come from one load here
        // rather than a thousand trips through the loader, one per `path` field.
        let steps = if ctx.look_ahead().field("path").exists() {
            Some(steps(ctx, of.clone()).await?)
        } else {
            None
        };
        Ok(self
            .radius
            .services
            .iter()
            .enumerate()
            .filter(|(_, r)| r.distance > 0)
            .map(|(at, _)| ReachedService {
                at,
                of: of.clone(),
                steps: steps.clone(),
            })
            .collect())
    }
    /// The most critical service among the origins and the services reached.
    async fn highest_criticality(&self) -> Option<Criticality> {
        highest(&self.radius).map(|r| r.criticality().into())
    }
    /// The offerings that hold an origin or a reached service, by creation.
    async fn offerings(&self, ctx: &Context<'_>) -> Result<Vec<ServiceOffering>> {
        Ok(offerings_in(ctx, &self.radius)
            .await?
            .into_iter()
            .map(ServiceOffering)
            .collect())
    }
    /// The target consumer groups of those offerings, each once, alphabetically: whom to
    /// tell.
    async fn consumer_groups(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let groups: BTreeSet<String> = offerings_in(ctx, &self.radius)
            .await?
            .into_iter()
            .map(|o| o.target_consumer_group)
            .collect();
        Ok(groups.into_iter().collect())
    }
}

/// The most critical service of a radius: the nearest, then the lowest key, among equals.
fn highest(radius: &Radius) -> Option<&Reached> {
    radius.services.iter().max_by_key(|r| {
        (
            r.criticality().rank(),
            std::cmp::Reverse((r.distance, r.key())),
        )
    })
}

/// The steps back along shortest paths of a radius, through the request's loader.
async fn steps(ctx: &Context<'_>, of: StepsOf) -> Result<Arc<Steps>> {
    Ok(loader(ctx)
        .load_one(of)
        .await
        .map_err(AppError::from)?
        .unwrap_or_default())
}

/// A service in a blast radius: how far it is, and one shortest way there.
#[derive(async_graphql::Description)]
pub struct ReachedService {
    /// Its place in `of.radius.services`.
    at: usize,
    of: StepsOf,
    /// The radius's steps, when the list loaded them for its `path` fields.
    steps: Option<Arc<Steps>>,
}

impl ReachedService {
    fn reached(&self) -> &Reached {
        &self.of.radius.services[self.at]
    }
}

#[Object(use_type_description)]
impl ReachedService {
    /// The service reached.
    async fn service(&self) -> Service {
        Service(self.reached().service.clone())
    }
    /// Its key (as `service.key`).
    async fn key(&self) -> &str {
        self.reached().key()
    }
    /// The fewest dependency edges from an origin to it (1: it depends on an origin).
    async fn distance(&self) -> i32 {
        self.reached().distance as i32
    }
    /// The keys of one shortest path, from an origin service to this one, both included.
    async fn path(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let steps = match &self.steps {
            Some(steps) => steps.clone(),
            None => steps(ctx, self.of.clone()).await?,
        };
        Ok(self.of.radius.path(self.reached().id(), &steps))
    }
    /// How much the business depends on it.
    async fn criticality(&self) -> Criticality {
        self.reached().criticality().into()
    }
}

/// The risk a change's reach and history suggest, beside the risk its requester declared.
/// Advice only: the declared risk is the one the approval policy applies. The formula is
/// in the README ("Risk assessment").
#[derive(async_graphql::Description)]
pub struct RiskAssessment(pub risk::RiskAssessment);

#[Object(use_type_description)]
impl RiskAssessment {
    /// The risk the assessment suggests.
    async fn suggested(&self) -> RiskLevel {
        self.0.suggested.into()
    }
    /// The risk the requester declared.
    async fn declared(&self) -> RiskLevel {
        self.0.declared.into()
    }
    /// One line per factor of the formula, in its order, each with its effect.
    async fn reasons(&self) -> &[String] {
        &self.0.reasons
    }
}

/// Assesses `change` from its blast radius (to [`CHANGE_DEPTH`]), the offerings in it and
/// the outcomes of past changes on its services: three batched loads.
pub async fn assess(ctx: &Context<'_>, change: &change::Model) -> Result<RiskAssessment> {
    let radius = radius(ctx, Origin::Change, change.id, CHANGE_DEPTH).await?;
    let (offerings, history) = futures_util::try_join!(offerings_in(ctx, &radius), async {
        Ok::<_, async_graphql::Error>(
            loader(ctx)
                .load_one(FailuresAround(change.id))
                .await
                .map_err(AppError::from)?
                .unwrap_or_default(),
        )
    })?;
    Ok(RiskAssessment(risk::assess(&RiskInputs {
        declared: change.risk,
        change_type: change.change_type,
        highest: highest(&radius).map(|r| (r.criticality(), r.key().to_owned(), r.distance)),
        offerings: offerings.len(),
        completed: history.completed,
        failed: history.failed,
    })))
}
