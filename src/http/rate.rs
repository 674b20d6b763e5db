//! Per-caller rate limits: a token bucket (GCRA, by the `governor` crate) per API token, and
//! per client address for callers without one. Every GraphQL operation counts — each one of a
//! batch, each WebSocket `subscribe` — as does each CSV export.
//!
//! The buckets live in this instance's memory: behind a load balancer, each instance applies
//! the limit on its own, so a caller spread over N instances gets up to N times the rate.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::AppError;

/// Checks between two sweeps of the buckets of callers gone quiet.
const SWEEP_EVERY: u64 = 4096;

/// Whose bucket a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    /// The API token it authenticated with (its row id).
    Token(i64),
    /// An anonymous caller, by the address it connected from (the proxy's, behind one).
    Address(IpAddr),
}

impl Caller {
    /// The caller of a request that came with token `token` (if any) from `http`'s peer.
    pub fn of(token: Option<i64>, http: &actix_web::HttpRequest) -> Self {
        match token {
            Some(id) => Caller::Token(id),
            None => Caller::Address(
                http.peer_addr()
                    .map_or(std::net::Ipv4Addr::UNSPECIFIED.into(), |a| a.ip()),
            ),
        }
    }
}

/// The limiter of one instance; `None` inside when limits are off.
pub struct RateLimits {
    buckets: Option<DefaultKeyedRateLimiter<Caller>>,
    checks: AtomicU64,
}

impl RateLimits {
    /// `per_second` operations a second for each caller, up to `burst` at once; 0 turns
    /// limits off.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let buckets = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            buckets,
            checks: AtomicU64::new(0),
        }
    }

    /// Takes `operations` from `caller`'s bucket, or says how long to wait (RATE_LIMITED).
    /// Nothing is taken when the bucket cannot hold them all.
    pub fn admit(&self, caller: Caller, operations: u32) -> Result<(), AppError> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
        // Buckets of callers silent long enough to be full again are indistinguishable from
        // new ones: drop them now and then, so addresses seen once do not pile up.
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            buckets.retain_recent();
        }
        let n = NonZeroU32::new(operations).unwrap_or(NonZeroU32::MIN);
        match buckets.check_key_n(&caller, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(buckets.clock().now());
                Err(limited(wait))
            }
            // More operations at once than the burst allows: they never will pass together.
            Err(_) => Err(AppError::LimitExceeded(format!(
                "{operations} operations at once are more than this server's rate limit allows \
                 in one go; send fewer per request"
            ))),
        }
    }
}

/// The refusal of a caller over its rate, to retry after `wait` (whole seconds, at least 1).
fn limited(wait: Duration) -> AppError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let retry_after = secs.max(1);
    AppError::RateLimited {
        message: format!(
            "too many requests for this caller; retry in {retry_after} s (Retry-After)"
        ),
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_burst_then_waits_while_another_caller_is_unaffected() {
        let limits = RateLimits::new(1, 3);
        let a = Caller::Token(1);
        for _ in 0..3 {
            assert!(limits.admit(a, 1).is_ok());
        }
        match limits.admit(a, 1) {
            Err(AppError::RateLimited { retry_after, .. }) => assert_eq!(retry_after, 1),
            other => panic!("expected RATE_LIMITED, got {other:?}"),
        }
        assert!(limits.admit(Caller::Token(2), 3).is_ok());
        assert!(
            limits
                .admit(Caller::Address([127, 0, 0, 1].into()), 1)
                .is_ok()
        );
    }

    #[test]
    fn a_batch_larger_than_the_burst_is_refused_as_a_limit_and_takes_nothing() {
        let limits = RateLimits::new(1, 2);
        let a = Caller::Token(1);
        assert!(matches!(
            limits.admit(a, 3),
            Err(AppError::LimitExceeded(_))
        ));
        assert!(limits.admit(a, 2).is_ok());
    }

    #[test]
    fn a_rate_of_zero_turns_limits_off() {
        let limits = RateLimits::new(0, 0);
        for _ in 0..10_000 {
            assert!(limits.admit(Caller::Token(1), 10).is_ok());
        }
    }
}
