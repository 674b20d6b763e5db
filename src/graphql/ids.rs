//! Opaque global IDs: base64url of `Type:id`. A portal treats them as strings; the server
//! checks the type, so a Release ID passed where a Change is wanted is NOT_FOUND, and a
//! string that is no ID at all is BAD_USER_INPUT.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

/// Every type that has a global ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Service,
    Partner,
    ServiceOffering,
    OfferingComponent,
    Person,
    Process,
    ProcessRoleAssignment,
    Policy,
    Project,
    ChangeModel,
    Change,
    Approval,
    Release,
    AuditEvent,
    BlackoutWindow,
    ApiToken,
    ApprovalRule,
    WebhookEndpoint,
    WebhookDelivery,
}

impl Kind {
    const ALL: [Kind; 19] = [
        Kind::Service,
        Kind::Partner,
        Kind::ServiceOffering,
        Kind::OfferingComponent,
        Kind::Person,
        Kind::Process,
        Kind::ProcessRoleAssignment,
        Kind::Policy,
        Kind::Project,
        Kind::ChangeModel,
        Kind::Change,
        Kind::Approval,
        Kind::Release,
        Kind::AuditEvent,
        Kind::BlackoutWindow,
        Kind::ApiToken,
        Kind::ApprovalRule,
        Kind::WebhookEndpoint,
        Kind::WebhookDelivery,
    ];

    /// The GraphQL type name, also the `entity_type` of audit events.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Service => "Service",
            Kind::Partner => "Partner",
            Kind::ServiceOffering => "ServiceOffering",
            Kind::OfferingComponent => "OfferingComponent",
            Kind::Person => "Person",
            Kind::Process => "Process",
            Kind::ProcessRoleAssignment => "ProcessRoleAssignment",
            Kind::Policy => "Policy",
            Kind::Project => "Project",
            Kind::ChangeModel => "ChangeModel",
            Kind::Change => "Change",
            Kind::Approval => "Approval",
            Kind::Release => "Release",
            Kind::AuditEvent => "AuditEvent",
            Kind::BlackoutWindow => "BlackoutWindow",
            Kind::ApiToken => "ApiToken",
            Kind::ApprovalRule => "ApprovalRule",
            Kind::WebhookEndpoint => "WebhookEndpoint",
            Kind::WebhookDelivery => "WebhookDelivery",
        }
    }

    /// The kind whose GraphQL type name is `name`.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Encodes the global ID of row `id` of type `kind`.
pub fn encode(kind: Kind, id: i64) -> ID {
    ID(portfolio_core::ids::global(kind.name(), id))
}

/// Decodes any global ID into its type and row id.
pub fn decode_any(id: &str, field: &str) -> AppResult<(Kind, i64)> {
    let malformed = || AppError::bad_input(format!("`{field}` is not a valid ID: {id:?}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(id.trim_end_matches('='))
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (name, raw) = text.split_once(':').ok_or_else(malformed)?;
    let kind = Kind::from_name(name).ok_or_else(malformed)?;
    let row: i64 = raw.parse().map_err(|_| malformed())?;
    if row <= 0 {
        return Err(malformed());
    }
    Ok((kind, row))
}

/// Decodes a global ID that must be of type `kind`; another type is NOT_FOUND.
pub fn decode(id: &ID, kind: Kind, field: &str) -> AppResult<i64> {
    let (found, row) = decode_any(id, field)?;
    if found != kind {
        return Err(AppError::not_found(format!(
            "`{field}`: no {} with ID {:?} (it is the ID of a {})",
            kind.name(),
            id.as_str(),
            found.name()
        )));
    }
    Ok(row)
}

/// Decodes an optional global ID argument.
pub fn decode_opt(id: Option<&ID>, kind: Kind, field: &str) -> AppResult<Option<i64>> {
    id.map(|id| decode(id, kind, field)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_round_trips_through_its_opaque_form() {
        let id = encode(Kind::Change, 42);
        assert_eq!(decode(&id, Kind::Change, "id").ok(), Some(42));
    }

    #[test]
    fn an_id_is_base64url_of_its_type_name_and_row_id() {
        for (kind, id) in [
            (Kind::ProcessRoleAssignment, i64::MAX),
            (Kind::ProcessRoleAssignment, i64::MIN),
            (Kind::Change, 1),
            (Kind::Service, 1_234_567),
        ] {
            let expected = URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name()));
            assert_eq!(encode(kind, id).0, expected);
        }
    }

    #[test]
    fn an_id_of_another_type_is_not_found() {
        let id = encode(Kind::Release, 7);
        let err = decode(&id, Kind::Change, "changeId")
            .err()
            .map(|e| e.code());
        assert_eq!(err, Some("NOT_FOUND"));
    }

    #[test]
    fn garbage_is_bad_user_input() {
        for junk in ["", "!!!", "U2VydmljZQ", "U2VydmljZTp4"] {
            let err = decode(&ID::from(junk), Kind::Service, "id")
                .err()
                .map(|e| e.code());
            assert_eq!(err, Some("BAD_USER_INPUT"), "{junk}");
        }
    }
}
