//! The webhook delivery worker: sends the outbox's deliveries (see
//! `portfolio_core::domain::webhooks`) signed per the Standard Webhooks specification,
//! retries with exponential back-off and jitter, and records every attempt.
//!
//! One worker per instance. It claims due deliveries with a lease, sends up to
//! `concurrency` at a time, and sleeps until the next one falls due, its instance commits
//! new ones (the bus rings it), or — on PostgreSQL, where other instances write to the
//! same outbox — its poll interval ends.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SubsecRound, Utc};
use futures_util::StreamExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use reqwest::header::{CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use tokio::sync::watch;

use crate::domain::Governance;
use crate::domain::webhooks::{Attempt, Claimed, Next};

/// How the worker sends and retries.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Longest wait for a connection to a receiver.
    pub connect_timeout: Duration,
    /// Longest wait for a receiver's whole answer.
    pub timeout: Duration,
    /// The first retry's delay; each next one doubles it, up to `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How long a delivery is retried before it is marked FAILED.
    pub max_age: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How often to look for deliveries other instances committed (PostgreSQL only; on
    /// SQLite this instance is the only writer and rings its own worker).
    pub poll: Option<Duration>,
    /// How long finished deliveries (DELIVERED, FAILED) are kept for `webhookDeliveries`.
    pub retention: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(3600),
            max_age: Duration::from_secs(24 * 3600),
            concurrency: 16,
            poll: Some(Duration::from_secs(1)),
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `delivered`, `retried` (an attempt failed and another is scheduled) or `failed`.
    pub outcome: &'static str,
}

/// What `/metrics` shows of the worker.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Attempts by outcome.
    pub attempts: Family<Outcome, Counter>,
    /// Pending deliveries as of the worker's last look.
    pub backlog: Gauge,
}

impl Stats {
    fn count(&self, next: Next) {
        let outcome = match next {
            Next::Delivered => "delivered",
            Next::RetryAt(_) => "retried",
            Next::Failed => "failed",
        };
        self.attempts.get_or_create(&Outcome { outcome }).inc();
    }
}

/// The Standard Webhooks signature header value of one message: `v1,` and the base64 of
/// HMAC-SHA256, keyed with the secret's bytes, over `id.timestamp.body`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body.as_bytes());
    Some(format!("v1,{}", STANDARD.encode(ctx.sign().as_ref())))
}

/// The HTTP client: no redirects followed (a 3xx is a refusal), bounded waits, our name.
fn client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout)
        .user_agent(concat!(
            "service-portfolio-graph/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
}

/// Starts the worker; it runs until `stop` turns true. `first_due` is when the outbox's
/// next delivery falls due, read before the server started.
pub fn start(
    governance: Governance,
    settings: Settings,
    stats: Stats,
    first_due: Option<DateTime<Utc>>,
    stop: watch::Receiver<bool>,
) -> reqwest::Result<()> {
    let client = client(&settings)?;
    tokio::spawn(run(governance, client, settings, stats, first_due, stop));
    Ok(())
}

/// Deliveries claimed per round.
const BATCH: u64 = 64;

/// The shortest wait after a round that found due deliveries it could not claim.
const IDLE_FLOOR: chrono::Duration = chrono::Duration::milliseconds(50);

async fn run(
    gov: Governance,
    client: reqwest::Client,
    settings: Settings,
    stats: Stats,
    mut due: Option<DateTime<Utc>>,
    mut stop: watch::Receiver<bool>,
) {
    let settings = Arc::new(settings);
    let (mut last_prune, mut last_look) = (None, None);
    loop {
        let wait = match due {
            Some(at) => (at - Utc::now()).to_std().unwrap_or_default(),
            None => Duration::MAX,
        };
        let wait = settings.poll.map_or(wait, |p| wait.min(p));
        tokio::select! {
            _ = tokio::time::sleep(wait.min(Duration::from_secs(86_400))) => {}
            _ = gov.bus().outbox_ring() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let (mut claimed, mut retry_at): (u64, Option<DateTime<Utc>>) = (0, None);
        loop {
            match round(&gov, &client, &settings, &stats).await {
                Ok((n, retry)) => {
                    claimed += n;
                    retry_at = match (retry_at, retry) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    if n < BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e.operator_message(), "webhook worker: outbox unavailable");
                    break;
                }
            }
        }
        if last_prune
            .is_none_or(|t: std::time::Instant| t.elapsed() >= PRUNE_EVERY.min(settings.retention))
        {
            last_prune = Some(std::time::Instant::now());
            prune(&gov, settings.retention).await;
        }
        // Under load, every round would ask the outbox what is due next; what this worker
        // scheduled itself it knows, new deliveries ring it, and it looks at the rest (other
        // instances' retries, the backlog for /metrics) at most every LOOK_EVERY.
        if claimed > 0 && last_look.is_some_and(|t: std::time::Instant| t.elapsed() < LOOK_EVERY) {
            due = retry_at;
            continue;
        }
        last_look = Some(std::time::Instant::now());
        due = match gov.outbox_state().await {
            Ok((pending, next)) => {
                stats.backlog.set(pending as i64);
                // Due but not claimable (another instance is claiming it this instant):
                // look again shortly rather than at once.
                let floor = Utc::now() + IDLE_FLOOR;
                next.map(|n| if claimed == 0 { n.max(floor) } else { n })
            }
            Err(e) => {
                tracing::warn!(error = %e.operator_message(), "webhook worker: outbox unavailable");
                Some(Utc::now() + settings.first_retry)
            }
        };
    }
}

/// How often, at most, a busy worker reads the outbox's state.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// How often finished deliveries past their retention are deleted (at most).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Deletes finished deliveries older than `retention`.
async fn prune(gov: &Governance, retention: Duration) {
    let Some(cutoff) = chrono::Duration::from_std(retention)
        .ok()
        .and_then(|r| Utc::now().checked_sub_signed(r))
    else {
        return;
    };
    match gov.prune_deliveries(cutoff).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "webhook worker: finished deliveries pruned"),
        Err(e) => tracing::warn!(error = %e.operator_message(), "webhook worker: pruning failed"),
    }
}

/// Claims one batch, sends it and records the attempts in one transaction; returns how
/// many were claimed and the earliest retry scheduled.
async fn round(
    gov: &Governance,
    client: &reqwest::Client,
    settings: &Arc<Settings>,
    stats: &Stats,
) -> crate::error::AppResult<(u64, Option<DateTime<Utc>>)> {
    // Long enough for the slowest attempt to finish before another worker may take over.
    let lease = settings.connect_timeout + settings.timeout + Duration::from_secs(2);
    let lease_until = Utc::now() + lease;
    let claimed = gov.claim_deliveries(BATCH, lease_until).await?;
    let n = claimed.len() as u64;
    let attempts: Vec<(i64, Attempt)> = futures_util::stream::iter(claimed)
        .map(|c| async move { (c.id, attempt(client, settings, &c).await) })
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await;
    let retry = attempts
        .iter()
        .filter_map(|(_, a)| match a.next {
            Next::RetryAt(t) => Some(t),
            _ => None,
        })
        .min();
    for (_, a) in &attempts {
        stats.count(a.next);
    }
    // Not recorded (the database is away): the lease runs out and they go again, at least once.
    gov.record_attempts(attempts).await?;
    Ok((n, retry))
}

/// Sends one delivery and decides what follows.
async fn attempt(client: &reqwest::Client, settings: &Settings, c: &Claimed) -> Attempt {
    let at = crate::domain::now();
    let timestamp = at.timestamp();
    let Some(signature) = sign(&c.secret, &c.message_id, timestamp, &c.payload) else {
        return Attempt {
            at,
            status: None,
            error: Some("the endpoint's secret is not valid base64; rotate it".into()),
            next: Next::Failed,
        };
    };
    let sent = client
        .post(&c.url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("webhook-id", &c.message_id)
        .header("webhook-timestamp", timestamp)
        .header("webhook-signature", signature)
        .body(c.payload.clone())
        .send()
        .await;
    let retry = |error: String, status: Option<i32>, after: Option<Duration>| {
        let next = schedule(settings, c, at, after);
        let error = match next {
            Next::Failed => format!("{error}; gave up after {} attempts", c.attempts + 1),
            _ => error,
        };
        Attempt {
            at,
            status,
            error: Some(error),
            next,
        }
    };
    match sent {
        Err(e) => {
            let why = if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "could not connect".to_owned()
            } else {
                "failed".to_owned()
            };
            retry(format!("request {why}: {}", root_cause(&e)), None, None)
        }
        Ok(res) => {
            let status = res.status();
            let code = Some(i32::from(status.as_u16()));
            if status.is_success() {
                return Attempt {
                    at,
                    status: code,
                    error: None,
                    next: Next::Delivered,
                };
            }
            if status.is_redirection() {
                let to = res
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or("?");
                return Attempt {
                    at,
                    status: code,
                    error: Some(format!(
                        "redirect to {to} not followed; register the final URL"
                    )),
                    next: Next::Failed,
                };
            }
            if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
                let after = retry_after(res.headers().get(RETRY_AFTER), at);
                return retry(format!("receiver answered {status}"), code, after);
            }
            Attempt {
                at,
                status: code,
                error: Some(format!("receiver refused it with {status}")),
                next: Next::Failed,
            }
        }
    }
}

/// The innermost cause of a client error (the part that says what went wrong).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A `Retry-After` header: seconds, or an HTTP date.
fn retry_after(header: Option<&HeaderValue>, now: DateTime<Utc>) -> Option<Duration> {
    let text = header?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?;
    (at.with_timezone(&Utc) - now).to_std().ok()
}

/// When to try again after a failed attempt at `c` (made at `at`), or FAILED once the
/// round of attempts would outlive `max_age`: the delay doubles from `first_retry` up to
/// `max_retry`, with up to half of it taken off at random so that receivers coming back
/// are not hit by every sender at once; a `Retry-After` longer than that is honoured.
fn schedule(settings: &Settings, c: &Claimed, at: DateTime<Utc>, after: Option<Duration>) -> Next {
    let doubling = 2u32.saturating_pow(c.attempts.clamp(0, 30) as u32);
    let base = settings
        .first_retry
        .saturating_mul(doubling)
        .min(settings.max_retry);
    let jittered = base.mul_f64(1.0 - fastrand::f64() / 2.0);
    let delay = after.map_or(jittered, |a| a.max(jittered));
    let next = chrono::Duration::from_std(delay)
        .ok()
        .and_then(|d| at.checked_add_signed(d));
    let deadline = chrono::Duration::from_std(settings.max_age)
        .ok()
        .and_then(|d| c.round_started_at.checked_add_signed(d));
    match (next, deadline) {
        (Some(n), Some(d)) if n <= d => Next::RetryAt(n.trunc_subsecs(6)),
        _ => Next::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claimed(attempts: i32, started: DateTime<Utc>) -> Claimed {
        Claimed {
            id: 1,
            url: "http://127.0.0.1/".into(),
            secret: String::new(),
            message_id: "msg_1".into(),
            payload: "{}".into(),
            attempts,
            round_started_at: started,
        }
    }

    #[test]
    fn the_signature_matches_the_standard_webhooks_example() {
        // The worked example of the Standard Webhooks specification's reference libraries.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_stop_at_the_maximum_age() {
        let s = Settings {
            first_retry: Duration::from_secs(10),
            max_retry: Duration::from_secs(600),
            max_age: Duration::from_secs(3600),
            ..Settings::default()
        };
        let now = Utc::now();
        let delay = |attempts| match schedule(&s, &claimed(attempts, now), now, None) {
            Next::RetryAt(t) => (t - now).num_milliseconds(),
            other => panic!("expected a retry, got {other:?}"),
        };
        for _ in 0..50 {
            let (first, third, capped) = (delay(0), delay(2), delay(20));
            assert!((5_000..=10_000).contains(&first), "{first}");
            assert!((20_000..=40_000).contains(&third), "{third}");
            assert!((300_000..=600_000).contains(&capped), "{capped}");
        }
        let old = now - chrono::Duration::seconds(3590);
        assert_eq!(schedule(&s, &claimed(4, old), now, None), Next::Failed);
    }

    #[test]
    fn a_retry_after_longer_than_the_back_off_is_honoured() {
        let s = Settings {
            first_retry: Duration::from_secs(1),
            ..Settings::default()
        };
        let now = Utc::now();
        let header = HeaderValue::from_static("120");
        let after = retry_after(Some(&header), now);
        assert_eq!(after, Some(Duration::from_secs(120)));
        match schedule(&s, &claimed(0, now), now, after) {
            Next::RetryAt(t) => assert!((t - now).num_seconds() >= 119),
            other => panic!("{other:?}"),
        }
        let date = HeaderValue::from_str(&(now + chrono::Duration::seconds(90)).to_rfc2822())
            .expect("a header value");
        let after = retry_after(Some(&date), now).map(|d| d.as_secs());
        assert!(after.is_some_and(|s| (88..=90).contains(&s)), "{after:?}");
    }
}
