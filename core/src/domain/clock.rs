//! Where a use case reads the time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};

/// The time use cases stamp their writes and audit events with: the system clock in
/// service; a clock that is set by hand when a history is replayed through the use cases
/// (the demo portfolio), so that each step of a change carries the date of its story.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `at` until [`Clock::set`] moves it.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(at))))
    }

    /// Moves a manual clock to `at`; the system clock ignores it.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(t) = &self.0 {
            *t.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
        }
    }

    /// The current time at the precision both engines store (microseconds), so what a use
    /// case returns is what a later read returns.
    pub fn now(&self) -> DateTime<Utc> {
        let t = match &self.0 {
            None => Utc::now(),
            Some(t) => *t.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        };
        t.trunc_subsecs(6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_manual_clock_reads_what_it_was_set_to_and_the_system_clock_ignores_set() {
        let start = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let manual = Clock::manual(start);
        assert_eq!(manual.now(), start);
        let later = start + chrono::Duration::hours(5);
        manual.clone().set(later);
        assert_eq!(manual.now(), later, "clones share one hand");
        let system = Clock::system();
        system.set(start);
        assert!(system.now() > start);
    }
}
