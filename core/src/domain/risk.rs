//! The risk a change's reach suggests, beside the risk its requester declared.
//!
//! Advice only: the declared risk is what the approval policy uses. The formula (also in
//! the README), on ranks LOW 0, MEDIUM 1, HIGH 2, VERY_HIGH 3:
//!
//! 1. start from the declared risk;
//! 2. an EMERGENCY change adds 1 (less time to build, test and review);
//! 3. touching 5 or more offerings, directly or through dependents, adds 1;
//! 4. of the other changes on the same services that have an outcome (at least 3 of
//!    them), a failure rate of 20 % or more adds 1, of 50 % or more adds 2;
//! 5. the result is raised to at least HIGH when a CRITICAL service is in the blast
//!    radius, to at least MEDIUM when a HIGH one is;
//! 6. and capped at VERY_HIGH.

use entity::enums::{ChangeType, Criticality, RiskLevel};

/// Offerings touched from which the reach adds 1.
pub const MANY_OFFERINGS: usize = 5;
/// Fewest past outcomes the failure rate is judged on.
pub const MIN_HISTORY: i64 = 3;

/// What the assessment weighs.
#[derive(Clone, Debug)]
pub struct RiskInputs {
    pub declared: RiskLevel,
    pub change_type: ChangeType,
    /// The most critical service of the blast radius (origins included), with its key and
    /// distance; `None` when the change touches no service.
    pub highest: Option<(Criticality, String, u32)>,
    /// Offerings holding a service of the blast radius.
    pub offerings: usize,
    /// Past changes on the same services with an outcome, and how many of them failed or
    /// were backed out.
    pub completed: i64,
    pub failed: i64,
}

/// The suggested risk and a reason for each factor, in the order of the formula.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskAssessment {
    pub declared: RiskLevel,
    pub suggested: RiskLevel,
    pub reasons: Vec<String>,
}

fn level(rank: i32) -> RiskLevel {
    match rank {
        i32::MIN..=0 => RiskLevel::Low,
        1 => RiskLevel::Medium,
        2 => RiskLevel::High,
        _ => RiskLevel::VeryHigh,
    }
}

fn signed(n: i32) -> String {
    format!("{n:+}")
}

/// Applies the formula of this module.
pub fn assess(inputs: &RiskInputs) -> RiskAssessment {
    let mut reasons = vec![format!("declared {}", inputs.declared.as_str())];
    let mut rank = inputs.declared.rank();

    let by_type = i32::from(inputs.change_type == ChangeType::Emergency);
    reasons.push(format!(
        "{} change: {}",
        inputs.change_type.as_str(),
        signed(by_type)
    ));
    rank += by_type;

    let by_reach = i32::from(inputs.offerings >= MANY_OFFERINGS);
    reasons.push(format!(
        "{} offering(s) touched through the blast radius ({MANY_OFFERINGS} or more add 1): {}",
        inputs.offerings,
        signed(by_reach)
    ));
    rank += by_reach;

    if inputs.completed >= MIN_HISTORY {
        let percent = inputs.failed * 100 / inputs.completed;
        let by_history = match percent {
            50.. => 2,
            20.. => 1,
            _ => 0,
        };
        reasons.push(format!(
            "past failure rate on its services: {} of {} ({percent} %): {}",
            inputs.failed,
            inputs.completed,
            signed(by_history)
        ));
        rank += by_history;
    } else {
        reasons.push(format!(
            "past failure rate on its services: {} outcome(s), fewer than {MIN_HISTORY} to judge: +0",
            inputs.completed
        ));
    }

    match &inputs.highest {
        Some((criticality, key, distance)) => {
            let floor = match criticality {
                Criticality::Critical => 2,
                Criticality::High => 1,
                _ => 0,
            };
            let at = if *distance == 0 {
                "touched directly".to_owned()
            } else {
                format!("{distance} step(s) away")
            };
            let effect = if floor > 0 {
                format!("at least {}", level(floor).as_str())
            } else {
                "no floor".to_owned()
            };
            reasons.push(format!(
                "highest criticality in the blast radius: {} ({key}, {at}): {effect}",
                criticality.as_str()
            ));
            rank = rank.max(floor);
        }
        None => reasons.push("no service in the blast radius: no floor".to_owned()),
    }

    RiskAssessment {
        declared: inputs.declared,
        suggested: level(rank),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> RiskInputs {
        RiskInputs {
            declared: RiskLevel::Low,
            change_type: ChangeType::Normal,
            highest: Some((Criticality::Low, "wiki".into(), 0)),
            offerings: 0,
            completed: 0,
            failed: 0,
        }
    }

    #[test]
    fn a_quiet_change_keeps_its_declared_risk() {
        let a = assess(&inputs());
        assert_eq!(a.suggested, RiskLevel::Low);
        assert_eq!(a.reasons.len(), 5);
    }

    #[test]
    fn each_factor_adds_its_share_and_the_total_is_capped() {
        let a = assess(&RiskInputs {
            declared: RiskLevel::Medium,
            change_type: ChangeType::Emergency,
            offerings: 5,
            completed: 4,
            failed: 2,
            ..inputs()
        });
        // 1 + 1 + 1 + 2 = 5, capped at VERY_HIGH.
        assert_eq!(a.suggested, RiskLevel::VeryHigh);
        assert!(
            a.reasons[3].contains("2 of 4 (50 %): +2"),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn a_critical_service_in_reach_raises_a_low_risk_to_high() {
        let a = assess(&RiskInputs {
            highest: Some((Criticality::Critical, "identity-sso".into(), 2)),
            ..inputs()
        });
        assert_eq!(a.suggested, RiskLevel::High);
        assert!(a.reasons[4].contains("CRITICAL (identity-sso, 2 step(s) away): at least HIGH"));
    }

    #[test]
    fn too_few_outcomes_say_so_and_add_nothing() {
        let a = assess(&RiskInputs {
            completed: 2,
            failed: 2,
            ..inputs()
        });
        assert_eq!(a.suggested, RiskLevel::Low);
        assert!(a.reasons[3].contains("fewer than 3"));
    }
}
