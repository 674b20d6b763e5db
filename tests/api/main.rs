//! Black-box tests: each spawns the real server on port 0 over a fresh database (SQLite in
//! memory by default, PostgreSQL when `TEST_DATABASE_URL` is set) and talks real HTTP.

mod helpers;
mod ops;

mod anonymous_reads;
mod approval_policy;
mod as_of;
mod audit_and_auth;
mod blackouts;
mod blast_radius;
mod calendar;
mod catalog_upsert;
mod change_rules;
mod concurrency;
mod decoding;
mod dependencies;
mod dry_run;
mod errors;
mod exports;
mod flow;
mod fuzz;
mod history;
mod http;
mod n_plus_one;
mod narrowing;
mod operations;
mod pagination;
mod rate_limits;
mod reference_data;
mod relationships;
mod release_rules;
mod reporting;
mod rollups;
mod scenario;
mod schema;
mod scoped_roles;
mod subscriptions;
mod tokens;
mod transfer;
mod webhooks;
