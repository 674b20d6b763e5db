//! The read side of the portfolio: web-free, batched queries over the entities.
//!
//! Every function takes a set of parent ids and answers for all of them in one statement,
//! which is what lets the GraphQL loaders keep the statement count of a request
//! independent of the number of rows it returns.

pub mod blackouts;
mod conn;
pub mod flow;
pub mod graph;
pub mod history;
pub mod listing;
pub mod lookup;
pub mod page;
pub mod relations;
pub mod reporting;
pub mod rows;
pub(crate) mod sql;

pub use conn::Db;
