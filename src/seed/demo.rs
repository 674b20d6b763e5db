//! The demo portfolio: the story of the source texts in data. Three processes with their
//! owner, regional managers, practitioners and policies; live, pipeline and retired services
//! with their partners; offerings for different consumer groups made of goods, access to
//! resources and service actions; PMO projects whose changes (standard, normal, emergency;
//! infrastructure, application, documentation) stand in every state; and releases that are
//! single, sequential and packaged. Deterministic: the same rows on every load.
//!
//! What the portfolio holds is the document `demo.toml` (see `document.rs`); this file
//! writes the history each change and release stands on: the dates of each step on the
//! demo calendar, the approvals, the audit trail.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use serde_json::json;

use super::document::{DemoChange, DemoRelease, Ids};
use crate::error::AppResult;

/// What a load inserted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub people: usize,
    pub services: usize,
    pub offerings: usize,
    pub changes: usize,
    pub releases: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} people, {} services, {} offerings, {} changes, {} releases",
            self.people, self.services, self.offerings, self.changes, self.releases
        )
    }
}

/// Day 0 of the demo's calendar; every timestamp is an offset from it.
fn at(day: i64, hour: i64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2026, 11, 2, 8, 0, 0)
        .single()
        .unwrap_or_default();
    base + Duration::days(day) + Duration::hours(hour)
}

/// Loads the demo portfolio in one transaction.
pub async fn load(db: &DatabaseConnection) -> AppResult<Counts> {
    let txn = db.begin().await?;
    let loaded = super::document::load(&txn, at).await?;
    let counts = Counts {
        people: loaded.ids.people.len(),
        services: loaded.ids.services.len(),
        offerings: loaded.ids.offerings,
        ..Counts::default()
    };
    let loader = Loader {
        ids: loaded.ids,
        changes: HashMap::new(),
        counts,
    };
    let counts = loader.run(&txn, &loaded.changes, &loaded.releases).await?;
    txn.commit().await?;
    Ok(counts)
}

/// Writes the changes and releases of the document, with their history.
struct Loader {
    /// The reference data, by name.
    ids: Ids,
    /// The changes written so far, by number.
    changes: HashMap<String, i64>,
    counts: Counts,
}

impl Loader {
    async fn run<C: ConnectionTrait>(
        mut self,
        db: &C,
        changes: &[DemoChange],
        releases: &[DemoRelease],
    ) -> AppResult<Counts> {
        self.changes(db, changes).await?;
        self.releases(db, releases).await?;
        Ok(self.counts)
    }

    async fn changes<C: ConnectionTrait>(&mut self, db: &C, rows: &[DemoChange]) -> AppResult<()> {
        for (i, row) in rows.iter().enumerate() {
            let c = self.change(db, i as i64, row).await?;
            self.changes.insert(c.number, c.id);
        }
        self.counts.changes = self.changes.len();
        Ok(())
    }

    async fn change<C: ConnectionTrait>(
        &mut self,
        db: &C,
        i: i64,
        row: &DemoChange,
    ) -> AppResult<change::Model> {
        let (title, change_type, status) = (row.title.as_str(), row.change_type, row.status);
        let requester = row.requester.as_str();
        use ChangeStatus as S;
        let reached = |s: S| -> bool {
            let order = [
                S::Draft,
                S::Submitted,
                S::Authorized,
                S::Scheduled,
                S::Implementing,
                S::Review,
                S::Closed,
            ];
            match status {
                S::Rejected => matches!(s, S::Draft | S::Submitted),
                S::Cancelled => matches!(s, S::Draft | S::Submitted),
                _ => order.iter().position(|x| *x == s) <= order.iter().position(|x| *x == status),
            }
        };
        let created = at(-40 + i % 30, (i % 8) + 1);
        let submitted = reached(S::Submitted).then(|| created + Duration::hours(20));
        let authorized = reached(S::Authorized).then(|| created + Duration::hours(46));
        let window_day = if matches!(status, S::Closed | S::Review) {
            -20 + i % 15
        } else {
            5 + (i * 3) % 40
        };
        let (start_hour, end_hour, window_day) = match &row.window {
            Some(w) => (w.start_hour, w.end_hour, w.day),
            None => (10 + i % 6, 14 + i % 6, window_day),
        };
        let planned = (reached(S::Scheduled) || status == S::Authorized && i % 2 == 0)
            .then(|| (at(window_day, start_hour), at(window_day, end_hour)));
        let started = reached(S::Implementing).then(|| {
            planned
                .map(|p| p.0)
                .unwrap_or(created + Duration::hours(50))
        });
        let completed = reached(S::Review).then(|| {
            planned
                .map(|p| p.1)
                .unwrap_or(created + Duration::hours(54))
        });
        let closed = reached(S::Closed).then(|| completed.unwrap_or(created) + Duration::days(2));
        let outcome = match status {
            S::Review if title.contains("VPN concentrators") => Some(ChangeOutcome::BackedOut),
            S::Review | S::Closed => Some(ChangeOutcome::Successful),
            _ => None,
        };
        let updated = [
            Some(created),
            submitted,
            authorized,
            started,
            completed,
            closed,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created);
        let number = format!("CHG{:07}", i + 1);
        let c = change::ActiveModel {
            number: Set(number),
            title: Set(title.into()),
            description: Set(format!("{title}. Back-out plan: restore the previous configuration from the pre-change snapshot.")),
            category: Set(row.category),
            change_type: Set(change_type),
            risk: Set(row.risk),
            status: Set(status),
            outcome: Set(outcome),
            requested_by_id: Set(self.ids.people[requester]),
            project_id: Set(row.project.as_deref().map(|p| self.ids.projects[p])),
            model_id: Set(row.model.as_deref().map(|m| self.ids.models[m])),
            planned_start: Set(planned.map(|p| p.0)),
            planned_end: Set(planned.map(|p| p.1)),
            submitted_at: Set(submitted),
            authorized_at: Set(authorized),
            started_at: Set(started),
            completed_at: Set(completed),
            closed_at: Set(closed),
            cancellation_reason: Set((status == S::Cancelled).then(|| "Superseded by a project decision.".to_owned())),
            created_at: Set(created),
            updated_at: Set(updated),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for s in &row.services {
            change_service::ActiveModel {
                change_id: Set(c.id),
                service_id: Set(self.ids.services[s.as_str()]),
                change_created_at: Set(Some(c.created_at)),
            }
            .insert(db)
            .await?;
        }
        let requester_id = self.ids.people[requester];
        self.audit(
            db,
            created,
            Some(requester_id),
            "CREATED",
            "Change",
            c.id,
            None,
            Some(S::Draft),
        )
        .await?;
        if let Some(t) = submitted {
            self.audit(
                db,
                t,
                Some(requester_id),
                "SUBMITTED",
                "Change",
                c.id,
                Some(S::Draft),
                Some(S::Submitted),
            )
            .await?;
        }
        // Approvers: change-management managers and owner, never the requester.
        let approvers: Vec<i64> = ["bob", "carmen", "alice", "deepak"]
            .iter()
            .map(|h| self.ids.people[*h])
            .filter(|id| *id != requester_id)
            .collect();
        let approvals = match (change_type, status) {
            (_, S::Rejected) => vec![(approvers[0], ApprovalDecision::Rejected)],
            (ChangeType::Standard, _) => vec![],
            (ChangeType::Emergency, _) if authorized.is_some() => {
                vec![(approvers[0], ApprovalDecision::Approved)]
            }
            (ChangeType::Normal, _) if authorized.is_some() => {
                vec![
                    (approvers[0], ApprovalDecision::Approved),
                    (approvers[1], ApprovalDecision::Approved),
                ]
            }
            // Submitted normal changes: one of two approvals in, for a mixed picture.
            (ChangeType::Normal, S::Submitted) if i % 2 == 0 => {
                vec![(approvers[0], ApprovalDecision::Approved)]
            }
            _ => vec![],
        };
        for (k, (who, decision)) in approvals.into_iter().enumerate() {
            let t = submitted.unwrap_or(created) + Duration::hours(2 + 10 * k as i64);
            approval::ActiveModel {
                change_id: Set(c.id),
                approver_id: Set(who),
                decision: Set(decision),
                comment: Set(Some(match decision {
                    ApprovalDecision::Approved => {
                        "Risk assessed; back-out plan is credible.".into()
                    }
                    ApprovalDecision::Rejected => {
                        "Risk too high for the benefit; rework the proposal.".into()
                    }
                })),
                decided_at: Set(t),
                ..Default::default()
            }
            .insert(db)
            .await?;
            let action = if decision == ApprovalDecision::Approved {
                "APPROVED"
            } else {
                "REJECTED"
            };
            let to = if decision == ApprovalDecision::Rejected {
                Some(S::Rejected)
            } else {
                None
            };
            self.audit(
                db,
                t,
                Some(who),
                action,
                "Change",
                c.id,
                to.map(|_| S::Submitted),
                to,
            )
            .await?;
        }
        if let Some(t) = authorized {
            let (actor, action) = match change_type {
                ChangeType::Standard => (None, "AUTHORIZED_BY_MODEL"),
                _ => (Some(approvers[0]), "AUTHORIZED"),
            };
            self.audit(
                db,
                t,
                actor,
                action,
                "Change",
                c.id,
                Some(S::Submitted),
                Some(S::Authorized),
            )
            .await?;
        }
        let erin = Some(self.ids.people["erin"]);
        let steps = [
            (
                reached(S::Scheduled),
                planned.map(|p| p.0 - Duration::days(3)),
                "SCHEDULED",
                S::Authorized,
                S::Scheduled,
            ),
            (
                reached(S::Implementing),
                started,
                "STARTED",
                S::Scheduled,
                S::Implementing,
            ),
            (
                reached(S::Review),
                completed,
                "COMPLETED",
                S::Implementing,
                S::Review,
            ),
            (reached(S::Closed), closed, "CLOSED", S::Review, S::Closed),
        ];
        for (done, t, action, from, to) in steps {
            if let (true, Some(t)) = (done, t) {
                self.audit(db, t, erin, action, "Change", c.id, Some(from), Some(to))
                    .await?;
            }
        }
        if status == S::Cancelled {
            self.audit(
                db,
                created + Duration::days(3),
                Some(requester_id),
                "CANCELLED",
                "Change",
                c.id,
                Some(S::Submitted),
                Some(S::Cancelled),
            )
            .await?;
        }
        Ok(c)
    }

    async fn audit<C: ConnectionTrait>(
        &self,
        db: &C,
        t: DateTime<Utc>,
        actor: Option<i64>,
        action: &str,
        entity_type: &str,
        entity_id: i64,
        from: Option<ChangeStatus>,
        to: Option<ChangeStatus>,
    ) -> AppResult<()> {
        audit_event::ActiveModel {
            at: Set(t),
            actor_id: Set(actor),
            action: Set(action.into()),
            entity_type: Set(entity_type.into()),
            entity_id: Set(entity_id),
            before: Set(from.map(|s| json!({ "status": s.as_str() }))),
            after: Set(to.map(|s| json!({ "status": s.as_str() }))),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(())
    }

    async fn releases<C: ConnectionTrait>(
        &mut self,
        db: &C,
        rows: &[DemoRelease],
    ) -> AppResult<()> {
        let mut ids: HashMap<String, i64> = HashMap::new();
        for row in rows {
            let (status, planned) = (row.status, row.planned_day);
            let r = release::ActiveModel {
                name: Set(row.name.clone()),
                version: Set(row.version.clone()),
                release_type: Set(row.release_type),
                status: Set(status),
                project_id: Set(row.project.as_deref().map(|p| self.ids.projects[p])),
                previous_id: Set(row.previous.as_deref().map(|p| ids[p])),
                planned_date: Set(Some(at(planned, 18))),
                deployed_at: Set(row.deployed_day.map(|d| at(d, 19))),
                created_at: Set(at(planned.min(0) - 10, 9)),
                updated_at: Set(at(planned.min(0) - 1, 9)),
                revision: Set(1),
                ..Default::default()
            }
            .insert(db)
            .await?;
            let mut services: Vec<i64> = Vec::new();
            for number in &row.changes {
                let change_id = self.changes[number.as_str()];
                release_change::ActiveModel {
                    release_id: Set(r.id),
                    change_id: Set(change_id),
                }
                .insert(db)
                .await?;
                let touched = change_service::Entity::find()
                    .filter(change_service::Column::ChangeId.eq(change_id))
                    .all(db)
                    .await?;
                for t in touched {
                    if !services.contains(&t.service_id) {
                        services.push(t.service_id);
                    }
                }
            }
            for s in services {
                release_service::ActiveModel {
                    release_id: Set(r.id),
                    service_id: Set(s),
                }
                .insert(db)
                .await?;
            }
            audit_event::ActiveModel {
                at: Set(r.created_at),
                actor_id: Set(Some(self.ids.people["farid"])),
                action: Set("CREATED".into()),
                entity_type: Set("Release".into()),
                entity_id: Set(r.id),
                before: Set(None),
                after: Set(Some(json!({ "status": "PLANNED" }))),
                ..Default::default()
            }
            .insert(db)
            .await?;
            if status != ReleaseStatus::Planned {
                audit_event::ActiveModel {
                    at: Set(r.updated_at),
                    actor_id: Set(Some(self.ids.people["grace"])),
                    action: Set(format!("ADVANCED_TO_{}", status.as_str())),
                    entity_type: Set("Release".into()),
                    entity_id: Set(r.id),
                    before: Set(Some(json!({ "status": "PLANNED" }))),
                    after: Set(Some(json!({ "status": status.as_str() }))),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
            ids.insert(format!("{} {}", row.name, row.version), r.id);
        }
        self.counts.releases = ids.len();
        Ok(())
    }
}

/// The demo's personas: who gets a token at start-up, with what scope, and why.
pub const PERSONAS: [(&str, &str, TokenScope, &str); 3] = [
    (
        "admin",
        "alice@portfolio.example",
        TokenScope::Admin,
        "Alice Moreau: ADMIN, owner of change-management (approves, schedules, closes)",
    ),
    (
        "requester",
        "laura@portfolio.example",
        TokenScope::Write,
        "Laura Novak: PMO project manager (requests changes)",
    ),
    (
        "release",
        "farid@portfolio.example",
        TokenScope::Write,
        "Farid Haddad: owner of release-management (builds and deploys releases)",
    ),
];

/// Label prefix of the demo's tokens; each start revokes the previous start's tokens.
pub const TOKEN_LABEL_PREFIX: &str = "demo:";

/// Issues fresh tokens for the demo personas (valid 30 days), revoking those of an earlier
/// start, so a newcomer can run mutations from GraphiQL at once.
pub async fn issue_tokens(
    db: &DatabaseConnection,
) -> AppResult<
    Vec<(
        &'static str,
        &'static str,
        crate::domain::tokens::IssuedToken,
    )>,
> {
    use crate::domain::tokens::{self, TokenRequest};
    tokens::revoke_labelled(db, TOKEN_LABEL_PREFIX).await?;
    let mut out = Vec::new();
    for (persona, email, scope, description) in PERSONAS {
        let issued = tokens::create(
            db,
            TokenRequest {
                email: email.into(),
                person_name: None,
                scope,
                label: format!("{TOKEN_LABEL_PREFIX}{persona}"),
                expires_at: Some(Utc::now() + Duration::days(30)),
            },
        )
        .await?;
        out.push((persona, description, issued));
    }
    Ok(out)
}
