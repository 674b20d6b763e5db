//! The web-free core of Service Portfolio Graph. It knows entities, the database and the
//! caller ([`domain::Actor`]); nothing of HTTP or GraphQL, which the `portfolio` crate
//! layers on top (CI checks with `cargo tree` that this crate never depends on actix or
//! async-graphql).
//!
//! - [`domain`]: every use case that writes, and the governance rules it enforces; one
//!   transaction per use case.
//! - [`store`]: batched, web-free read queries (keyset pages, look-ups, relations, reports).
//! - [`auth`]: a request's bearer token to its caller.
//! - [`error`]: the one error type and its stable codes.
//! - [`ids`]: the API's opaque global IDs.

pub mod auth;
pub mod domain;
pub mod error;
pub mod ids;
pub mod store;
