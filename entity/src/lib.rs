//! SeaORM entities of the service portfolio: one module per table, plus the string-backed
//! enums. This crate is the persistence model only; it knows nothing of HTTP or GraphQL.

pub mod enums;

pub mod api_token;
pub mod approval;
pub mod approval_rule;
pub mod audit_event;
pub mod blackout_window;
pub mod blackout_window_service;
pub mod change;
pub mod change_model;
pub mod change_service;
pub mod offering_component;
pub mod offering_service;
pub mod partner;
pub mod person;
pub mod policy;
pub mod process;
pub mod process_role_assignment;
pub mod project;
pub mod release;
pub mod release_change;
pub mod release_service;
pub mod service;
pub mod service_dependency;
pub mod service_offering;
pub mod service_partner;
pub mod webhook_delivery;
pub mod webhook_endpoint;

pub use enums::*;
