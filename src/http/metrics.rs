//! `/metrics` in the Prometheus (OpenMetrics) text format: GraphQL requests by operation and
//! outcome with a latency histogram, plus gauges and counters read at scrape time (SQL
//! statements, database pool, WebSockets, subscriptions, events).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseConnection, DbBackend};

use crate::db::StatementCounter;
use crate::domain::EventBus;

/// Distinct operation names kept as labels; later ones are counted as `other`, so a client
/// inventing names cannot grow the metrics without bound.
const MAX_OPERATIONS: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Transport {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Operation {
    operation: String,
    outcome: String,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    in_flight: Gauge,
    requests: Family<Operation, Counter>,
    latency: Family<Operation, Histogram>,
    rate_limited: Family<Transport, Counter>,
    names: Mutex<HashSet<String>>,
}

/// What is read at scrape time.
#[derive(Debug)]
struct Live {
    db: DatabaseConnection,
    statements: StatementCounter,
    events: EventBus,
    connections: Arc<AtomicUsize>,
}

impl Metrics {
    /// Metrics over the given live sources.
    pub fn new(
        db: DatabaseConnection,
        statements: StatementCounter,
        events: EventBus,
        connections: Arc<AtomicUsize>,
        webhooks: crate::webhooks::Stats,
    ) -> Self {
        let mut registry = Registry::default();
        let in_flight = Gauge::default();
        registry.register(
            "portfolio_graphql_requests_in_flight",
            "GraphQL requests received and not yet answered (executing or waiting their turn)",
            in_flight.clone(),
        );
        let requests = Family::<Operation, Counter>::default();
        let latency = Family::<Operation, Histogram>::new_with_constructor(|| {
            // 1 ms to about 33 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        registry.register(
            "portfolio_graphql_requests",
            "GraphQL operations executed, by operation name and outcome (ok or the first error's code)",
            requests.clone(),
        );
        registry.register(
            "portfolio_graphql_request_duration_seconds",
            "Execution time of GraphQL operations, by operation name and outcome",
            latency.clone(),
        );
        let rate_limited = Family::<Transport, Counter>::default();
        registry.register(
            "portfolio_rate_limited",
            "Operations refused because their caller was over its rate limit, by transport (http, websocket)",
            rate_limited.clone(),
        );
        registry.register(
            "portfolio_webhook_attempts",
            "Webhook delivery attempts by outcome: delivered, retried (failed, another attempt scheduled) or failed (given up)",
            webhooks.attempts,
        );
        registry.register(
            "portfolio_webhook_backlog",
            "Webhook deliveries pending in the outbox, as of the delivery worker's last look",
            webhooks.backlog,
        );
        registry.register_collector(Box::new(Live {
            db,
            statements,
            events,
            connections,
        }));
        Self {
            registry,
            in_flight,
            requests,
            latency,
            rate_limited,
            names: Mutex::new(HashSet::new()),
        }
    }

    /// Counts a request as in flight until the returned guard drops.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Records one executed operation.
    pub fn observe(&self, name: Option<&str>, outcome: &str, took: Duration) {
        let operation = self.label(name);
        let labels = Operation {
            operation,
            outcome: outcome.to_owned(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Counts a refusal of a caller over its rate, on `transport`.
    pub fn rate_limited(&self, transport: &'static str) {
        self.rate_limited
            .get_or_create(&Transport { transport })
            .inc();
    }

    fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "(anonymous)".to_owned();
        };
        let valid = name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return "other".to_owned();
        }
        let Ok(mut names) = self.names.lock() else {
            return "other".to_owned();
        };
        if names.contains(name) || names.len() < MAX_OPERATIONS {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }
}

/// A request in flight; dropping it ends it.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Collector for Live {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        fn counter(
            encoder: &mut DescriptorEncoder,
            name: &str,
            help: &str,
            value: u64,
        ) -> Result<(), std::fmt::Error> {
            let c = ConstCounter::new(value);
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)
        }
        fn gauge(
            encoder: &mut DescriptorEncoder,
            name: &str,
            help: &str,
            value: i64,
        ) -> Result<(), std::fmt::Error> {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
        }
        let e = self.events.counters();
        counter(
            &mut encoder,
            "portfolio_sql_statements",
            "SQL statements executed since start-up",
            self.statements.get(),
        )?;
        let (size, idle) = pool(&self.db);
        gauge(
            &mut encoder,
            "portfolio_db_pool_connections_in_use",
            "Database connections lent out",
            size.saturating_sub(idle),
        )?;
        gauge(
            &mut encoder,
            "portfolio_db_pool_connections_idle",
            "Database connections idle in the pool",
            idle,
        )?;
        gauge(
            &mut encoder,
            "portfolio_websocket_connections",
            "Open WebSocket connections",
            self.connections.load(Ordering::Relaxed) as i64,
        )?;
        gauge(
            &mut encoder,
            "portfolio_subscriptions",
            "Active subscriptions",
            self.events.subscribers() as i64,
        )?;
        counter(
            &mut encoder,
            "portfolio_events_published",
            "Committed events published to this instance's subscribers",
            e.published.load(Ordering::Relaxed),
        )?;
        counter(
            &mut encoder,
            "portfolio_events_skipped",
            "Events skipped by subscribers that fell behind",
            e.skipped.load(Ordering::Relaxed),
        )?;
        counter(
            &mut encoder,
            "portfolio_event_listener_reconnects",
            "Reconnections of the PostgreSQL event listener",
            e.reconnects.load(Ordering::Relaxed),
        )
    }
}

/// Connections in the pool and how many of them are idle.
fn pool(db: &DatabaseConnection) -> (i64, i64) {
    // The pool getters panic on the other engine: ask for the engine first.
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        _ => (0, 0),
    }
}
