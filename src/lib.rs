//! Service Portfolio Graph: a GraphQL backend for an ITIL service portfolio.
//!
//! Layers, from the inside out:
//! - `entity`, `migration` (workspace crates): tables and schema, no web.
//! - `portfolio-core` (workspace crate, re-exported here as [`domain`], [`store`], [`auth`],
//!   [`error`]): the use cases and rules, the batched read queries; no web, which the
//!   compiler enforces.
//! - [`graphql`]: the schema; thin resolvers over loaders, the store and the use cases.
//! - [`http`] and [`startup`]: actix-web wiring, the one place that knows about HTTP.

pub use portfolio_core::{auth, domain, error, ids, store};

pub mod bulk;
pub mod catalog_file;
pub mod cli;
pub mod config;
pub mod db;
pub mod graphql;
pub mod http;
pub mod relay;
pub mod seed;
pub mod startup;
pub mod telemetry;
pub mod transfer;
pub mod webhooks;
