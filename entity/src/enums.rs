//! Enumerations stored as their SCREAMING_SNAKE string form, so the database stays readable
//! and portable between SQLite and PostgreSQL.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a string-backed active enum whose database value is the SCREAMING_SNAKE variant name.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// The stored (and displayed) SCREAMING_SNAKE form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }
    };
}

string_enum!(
    /// Where a service stands in its lifecycle.
    ServiceLifecycle { Pipeline = "PIPELINE", Live = "LIVE", Retired = "RETIRED" }
);
string_enum!(
    /// How much the business depends on a service.
    Criticality { Low = "LOW", Medium = "MEDIUM", High = "HIGH", Critical = "CRITICAL" }
);
string_enum!(
    /// The kind of partner, one of the Four Ps of service design.
    PartnerKind { Supplier = "SUPPLIER", Manufacturer = "MANUFACTURER", Vendor = "VENDOR" }
);
string_enum!(
    /// How one service depends on another.
    DependencyKind { Runtime = "RUNTIME", Data = "DATA", Infrastructure = "INFRASTRUCTURE" }
);
string_enum!(
    /// Publication state of a service offering.
    OfferingStatus { Draft = "DRAFT", Published = "PUBLISHED", Withdrawn = "WITHDRAWN" }
);
string_enum!(
    /// What an offering component gives the consumer.
    OfferingComponentKind {
        Goods = "GOODS",
        AccessToResource = "ACCESS_TO_RESOURCE",
        ServiceAction = "SERVICE_ACTION",
    }
);
string_enum!(
    /// A process role.
    ProcessRole { Owner = "OWNER", Manager = "MANAGER", Practitioner = "PRACTITIONER" }
);
string_enum!(
    /// State of a project.
    ProjectStatus { Proposed = "PROPOSED", Active = "ACTIVE", OnHold = "ON_HOLD", Closed = "CLOSED" }
);
string_enum!(
    /// How a change is authorized.
    ChangeType { Standard = "STANDARD", Normal = "NORMAL", Emergency = "EMERGENCY" }
);
string_enum!(
    /// What a change touches.
    ChangeCategory {
        Infrastructure = "INFRASTRUCTURE",
        Application = "APPLICATION",
        Documentation = "DOCUMENTATION",
    }
);
string_enum!(
    /// Risk of a change. Ordered by severity through [`RiskLevel::rank`], never alphabetically.
    RiskLevel { Low = "LOW", Medium = "MEDIUM", High = "HIGH", VeryHigh = "VERY_HIGH" }
);
string_enum!(
    /// Change lifecycle state.
    ChangeStatus {
        Draft = "DRAFT",
        Submitted = "SUBMITTED",
        Authorized = "AUTHORIZED",
        Scheduled = "SCHEDULED",
        Implementing = "IMPLEMENTING",
        Review = "REVIEW",
        Closed = "CLOSED",
        Rejected = "REJECTED",
        Cancelled = "CANCELLED",
    }
);
string_enum!(
    /// How an implemented change ended.
    ChangeOutcome { Successful = "SUCCESSFUL", Failed = "FAILED", BackedOut = "BACKED_OUT" }
);
string_enum!(
    /// An approver's decision.
    ApprovalDecision { Approved = "APPROVED", Rejected = "REJECTED" }
);
string_enum!(
    /// Size of a release.
    ReleaseType { Major = "MAJOR", Minor = "MINOR", Patch = "PATCH", Emergency = "EMERGENCY" }
);
string_enum!(
    /// Release lifecycle state.
    ReleaseStatus {
        Planned = "PLANNED",
        Building = "BUILDING",
        Testing = "TESTING",
        Ready = "READY",
        Deployed = "DEPLOYED",
        Closed = "CLOSED",
        Failed = "FAILED",
        Cancelled = "CANCELLED",
    }
);
string_enum!(
    /// What an API token may do.
    TokenScope { Read = "READ", Write = "WRITE", Admin = "ADMIN" }
);

impl Criticality {
    /// Rank: LOW 0 < MEDIUM 1 < HIGH 2 < CRITICAL 3.
    pub fn rank(self) -> i32 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
            Self::Critical => 3,
        }
    }
}

impl RiskLevel {
    /// Severity rank: LOW 0 < MEDIUM 1 < HIGH 2 < VERY_HIGH 3.
    pub fn rank(self) -> i32 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
            Self::VeryHigh => 3,
        }
    }
}
string_enum!(
    /// The kind of event a webhook endpoint receives.
    WebhookEventType { Change = "CHANGE", Release = "RELEASE" }
);
string_enum!(
    /// Where a webhook delivery stands.
    DeliveryStatus { Pending = "PENDING", Delivered = "DELIVERED", Failed = "FAILED" }
);
