//! Data sets: the demo portfolio, and the deterministic synthetic portfolio for benchmarks.

pub mod demo;
mod document;
pub mod synthetic;

use entity::{person, service};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};

use crate::error::AppResult;

/// Whether the portfolio holds no people and no services yet.
pub async fn is_empty<C: ConnectionTrait>(db: &C) -> AppResult<bool> {
    Ok(person::Entity::find().count(db).await? == 0
        && service::Entity::find().count(db).await? == 0)
}
