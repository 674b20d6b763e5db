//! Who is asking: the person and scope of the request's bearer token, or anonymous, and
//! the process roles that person holds (loaded once per request).

use std::sync::Arc;

use async_graphql::Context;

pub use crate::domain::Actor as Viewer;
use crate::domain::ActorRoles;
use crate::error::AppError;
use crate::graphql::loader;
use crate::graphql::loaders::RolesOf;

static ANONYMOUS: Viewer = Viewer {
    person_id: None,
    scope: None,
};

/// `Viewer::of(ctx)`: the viewer of a request.
pub trait ViewerOf {
    /// The viewer of the request (anonymous when none was attached).
    fn of<'a>(ctx: &Context<'a>) -> &'a Self;
}

impl ViewerOf for Viewer {
    fn of<'a>(ctx: &Context<'a>) -> &'a Viewer {
        ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
    }
}

/// The viewer's roles, loaded at most once per request: every resolver that needs them
/// waits on the same load, however their timing interleaves.
#[derive(Default)]
pub struct RolesOnce(tokio::sync::OnceCell<Arc<ActorRoles>>);

/// The process roles of the request's viewer.
pub async fn roles(ctx: &Context<'_>) -> async_graphql::Result<Arc<ActorRoles>> {
    let Some(id) = Viewer::of(ctx).person_id else {
        return Ok(Arc::default());
    };
    let load = || async {
        Ok::<_, AppError>(
            loader(ctx)
                .load_one(RolesOf(id))
                .await
                .map_err(AppError::from)?
                .unwrap_or_default(),
        )
    };
    Ok(match ctx.data_opt::<RolesOnce>() {
        Some(once) => once.0.get_or_try_init(load).await?.clone(),
        None => load().await?,
    })
}
