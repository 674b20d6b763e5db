//! Service Portfolio Graph: a GraphQL backend for an ITIL service portfolio.
//!
//! Layers, from the inside out:
//! - `entity`, `migration` (workspace crates): tables and schema, no web.
//! - [`store`]: batched, web-free read queries (keyset pages, look-ups).
//! - [`graphql`]: the schema; thin resolvers over loaders and the store.
//! - [`http`] and [`startup`]: actix-web wiring, the one place that knows about HTTP.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod relay;
pub mod seed;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod transfer;
