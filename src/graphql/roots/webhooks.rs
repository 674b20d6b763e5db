//! Webhooks (ADMIN): endpoints that receive change and release events, and their deliveries.

use async_graphql::{Context, ID, MaybeUndefined, Object, Result};

use super::{ids, patch, patch_ids};
use crate::domain::webhooks::{DeliveryFilter, EndpointPatch, NewEndpoint};
use crate::error::AppError;
use crate::graphql::enums::{DeliveryStatus, WebhookEventType};
use crate::graphql::gov;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::types::{WebhookDelivery, WebhookEndpoint, WebhookEndpointSecret};
use crate::graphql::viewer::{Viewer, ViewerOf};

/// Most deliveries `webhookDeliveries` lists at once.
const MAX_DELIVERIES: i32 = 100;

/// The part of `Query` for webhooks.
#[derive(Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// Every webhook endpoint, oldest first. ADMIN. Never shows a secret.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let rows = gov(ctx).webhook_endpoints(Viewer::of(ctx)).await?;
        Ok(rows.into_iter().map(WebhookEndpoint).collect())
    }

    /// An endpoint's deliveries, newest first: attempts, last answer, next attempt. ADMIN.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] endpoint_id: ID,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<DeliveryStatus>,
        #[graphql(desc = "At most this many (max 100; default 50).")] first: Option<i32>,
        #[graphql(desc = "Deliveries after this one (older), for the next page.")] after: Option<
            ID,
        >,
    ) -> Result<Vec<WebhookDelivery>> {
        let first = first.unwrap_or(50);
        if !(0..=MAX_DELIVERIES).contains(&first) {
            return Err(AppError::bad_input(format!(
                "`first` must be between 0 and {MAX_DELIVERIES}, not {first}"
            ))
            .into());
        }
        let filter = DeliveryFilter {
            endpoint_id: decode(&endpoint_id, Kind::WebhookEndpoint, "endpointId")?,
            status: status.map(Into::into),
            before_id: decode_opt(after.as_ref(), Kind::WebhookDelivery, "after")?,
            limit: first as u64,
        };
        let rows = gov(ctx).webhook_deliveries(Viewer::of(ctx), filter).await?;
        Ok(rows.into_iter().map(WebhookDelivery).collect())
    }
}

/// The part of `Mutation` for webhooks.
#[derive(Default)]
pub struct WebhooksMutation;

fn types(v: Vec<WebhookEventType>) -> Vec<entity::WebhookEventType> {
    v.into_iter().map(Into::into).collect()
}

#[Object]
impl WebhooksMutation {
    /// Registers a webhook endpoint. ADMIN. Every change and release event it asks for
    /// that commits from now on is POSTed to it, signed with the secret in the answer
    /// (shown only this once). Only http(s) URLs; redirects are not followed.
    async fn register_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where to POST events (http or https, at most 2,000 characters).")]
        url: String,
        #[graphql(desc = "What it is for.")] description: Option<String>,
        #[graphql(desc = "The kinds of event it receives; none or omitted: all.")]
        event_types: Option<Vec<WebhookEventType>>,
        #[graphql(desc = "Only events touching one of these services; none or omitted: any.")]
        service_ids: Option<Vec<ID>>,
        #[graphql(desc = "Only events of one of these projects; none or omitted: any.")]
        project_ids: Option<Vec<ID>>,
    ) -> Result<WebhookEndpointSecret> {
        let input = NewEndpoint {
            url,
            description,
            event_types: types(event_types.unwrap_or_default()),
            service_ids: ids(
                &service_ids.unwrap_or_default(),
                Kind::Service,
                "serviceIds",
            )?,
            project_ids: ids(
                &project_ids.unwrap_or_default(),
                Kind::Project,
                "projectIds",
            )?,
        };
        let e = gov(ctx).register_webhook(Viewer::of(ctx), input).await?;
        let secret = e.secret.clone();
        Ok(WebhookEndpointSecret {
            endpoint: WebhookEndpoint(e),
            secret,
        })
    }

    /// Changes a webhook endpoint. ADMIN. Deliveries already queued keep their body.
    #[allow(clippy::too_many_arguments)]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New URL (http or https).")] url: MaybeUndefined<String>,
        #[graphql(desc = "New description; null clears it.")] description: MaybeUndefined<String>,
        #[graphql(desc = "The kinds of event it receives; empty: all.")]
        event_types: MaybeUndefined<Vec<WebhookEventType>>,
        #[graphql(desc = "Only events touching one of these services; empty or null: any.")]
        service_ids: MaybeUndefined<Vec<ID>>,
        #[graphql(desc = "Only events of one of these projects; empty or null: any.")]
        project_ids: MaybeUndefined<Vec<ID>>,
    ) -> Result<WebhookEndpoint> {
        let id = decode(&id, Kind::WebhookEndpoint, "id")?;
        let p = EndpointPatch {
            url: patch(url),
            description: patch(description),
            event_types: patch::<_, Vec<WebhookEventType>>(event_types)
                .try_map(|v| Ok(types(v)))?,
            service_ids: patch_ids(service_ids, Kind::Service, "serviceIds")?,
            project_ids: patch_ids(project_ids, Kind::Project, "projectIds")?,
            ..Default::default()
        };
        let e = gov(ctx)
            .update_webhook(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(WebhookEndpoint(e))
    }

    /// Pauses a webhook endpoint. ADMIN. Its events keep queueing, unsent, until it is
    /// resumed (they are not lost, and the maximum age counts from their first attempt).
    async fn pause_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] id: ID,
    ) -> Result<WebhookEndpoint> {
        set_paused(ctx, &id, true).await
    }

    /// Resumes a paused webhook endpoint. ADMIN. What queued meanwhile goes out at once.
    async fn resume_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] id: ID,
    ) -> Result<WebhookEndpoint> {
        set_paused(ctx, &id, false).await
    }

    /// Gives a webhook endpoint a new signing secret, shown only in this answer. ADMIN.
    /// Deliveries from now on are signed with it.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] id: ID,
    ) -> Result<WebhookEndpointSecret> {
        let row = decode(&id, Kind::WebhookEndpoint, "id")?;
        let p = EndpointPatch {
            rotate_secret: true,
            ..Default::default()
        };
        let e = gov(ctx)
            .update_webhook(Viewer::of(ctx), row, None, p)
            .await?;
        let secret = e.secret.clone();
        Ok(WebhookEndpointSecret {
            endpoint: WebhookEndpoint(e),
            secret,
        })
    }

    /// Deletes a webhook endpoint and its deliveries. ADMIN. Returns the ID it had.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] id: ID,
    ) -> Result<ID> {
        let row = decode(&id, Kind::WebhookEndpoint, "id")?;
        gov(ctx).delete_webhook(Viewer::of(ctx), row).await?;
        Ok(id)
    }

    /// Sends a delivery again, whatever became of it, with the same `webhook-id` and body
    /// and a new round of retries. ADMIN.
    async fn replay_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] id: ID,
    ) -> Result<WebhookDelivery> {
        let row = decode(&id, Kind::WebhookDelivery, "id")?;
        let d = gov(ctx).replay_delivery(Viewer::of(ctx), row).await?;
        Ok(WebhookDelivery(d))
    }
}

async fn set_paused(ctx: &Context<'_>, id: &ID, paused: bool) -> Result<WebhookEndpoint> {
    let row = decode(id, Kind::WebhookEndpoint, "id")?;
    let p = EndpointPatch {
        paused: Some(paused),
        ..Default::default()
    };
    let e = gov(ctx)
        .update_webhook(Viewer::of(ctx), row, None, p)
        .await?;
    Ok(WebhookEndpoint(e))
}
