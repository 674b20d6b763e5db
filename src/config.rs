//! Command line and configuration: flags, then environment variables, then defaults.
//! `portfolio --help` and `portfolio <command> --help` are the reference.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Service Portfolio Graph: a GraphQL backend for an ITIL service portfolio.
#[derive(Debug, Parser)]
#[command(name = "portfolio", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Which log lines to write, in `tracing` filter syntax (`info`, `warn,portfolio=debug`,
    /// `sql=trace` for every SQL statement).
    #[arg(
        long,
        env = "RUST_LOG",
        default_value = "info,sqlx=warn,sea_orm=warn",
        global = true
    )]
    pub log_filter: String,

    /// Log lines as `text` (for people) or `json` (one object per line, for collectors).
    #[arg(long, env = "PORTFOLIO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Server settings, when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The embedded default: a SQLite file in the working directory, created when missing.
/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://portfolio.db?mode=rwc";

/// Whether reads without a token are allowed, and why: as set (`--anonymous-read` or its
/// environment variable), else on for the embedded default and with `--demo` — a demo is
/// for looking around — and off for any other database, whatever its engine.
pub fn anonymous_read(args: &ServeArgs, database_url: &str) -> (bool, &'static str) {
    match args.anonymous_read {
        Some(on) => (on, "set"),
        None if database_url == DEFAULT_DATABASE_URL => (true, "embedded default"),
        None if args.demo => (true, "--demo"),
        None => (false, "off unless the embedded default or --demo"),
    }
}

/// Pooled database connections, and why: as set, else the engine's default — 4 on a SQLite
/// file (one writer at a time; readers beside it), 10 on PostgreSQL; always 1 for an
/// in-memory SQLite database, which exists once per connection.
pub fn pool_size(database_url: &str, setting: Option<u32>) -> (u32, &'static str) {
    let sqlite = database_url.starts_with("sqlite:");
    match setting {
        _ if sqlite && is_memory(database_url) => (1, "in-memory SQLite"),
        Some(n) => (n, "set"),
        None if sqlite => (4, "engine default"),
        None => (10, "engine default"),
    }
}

/// Whether a SQLite URL names an in-memory database, whose every connection would be a
/// separate, empty database.
fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// GraphQL operations executed at once, and why: as set, else twice the CPU cores (one
/// operation builds its answer while another waits for the database).
pub fn concurrent_operations(setting: Option<usize>) -> (usize, &'static str) {
    match setting {
        Some(n) => (n.max(1), "set"),
        None => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (2 * cores, "twice the CPU cores")
        }
    }
}

/// Commands of the `portfolio` binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve GraphQL (the default).
    Serve(ServeArgs),
    /// Print the effective configuration — each setting, its value and where it came from
    /// (flag, environment or default) — with passwords masked; takes the same flags as
    /// `serve`.
    Config(ServeArgs),
    /// Write the whole portfolio (every table, ids, versions, audit trail) as one JSON
    /// document, identical whichever engine holds it.
    Export {
        /// File to write; standard output when absent.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Load a document written by `export` into an empty database, in one transaction: a
    /// malformed or partial file writes nothing.
    Import {
        /// The document to load.
        file: std::path::PathBuf,
    },
    /// Create or update people, partners, services and offerings from a CSV or JSON file
    /// (a CMDB's or an HR system's export), keyed by e-mail, name and key, in one
    /// transaction: prints what was created, updated, left unchanged or refused (with the
    /// line and the reason); one refused row and nothing is written.
    ImportCatalog {
        /// The file: `.csv` or `.json` (see the README for the columns).
        file: std::path::PathBuf,
        /// Check and report only; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Load a data set into an empty database.
    Seed {
        /// Which data set.
        #[command(subcommand)]
        set: SeedSet,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Create or revoke API tokens.
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
}

/// Token administration (an operator's task: it needs access to the database).
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for the person with this e-mail (created when absent) and print it
    /// once; only its hash is stored.
    Create {
        /// The person's e-mail address.
        #[arg(long)]
        email: String,
        /// The person's name, used when the person is created (default: the e-mail's local part).
        #[arg(long)]
        name: Option<String>,
        /// What the token may do.
        #[arg(long, value_enum)]
        scope: ScopeArg,
        /// A label for the token, e.g. where it is used.
        #[arg(long, default_value = "cli")]
        label: String,
        /// Days until the token expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Revoke a token by its id (printed when it was created).
    Revoke {
        /// The token's id.
        #[arg(long)]
        id: i64,
    },
}

/// Token scopes on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    /// Reads only.
    Read,
    /// Reads and writes, within the caller's process roles.
    Write,
    /// Everything, including reference data.
    Admin,
}

impl From<ScopeArg> for entity::TokenScope {
    fn from(s: ScopeArg) -> Self {
        match s {
            ScopeArg::Read => Self::Read,
            ScopeArg::Write => Self::Write,
            ScopeArg::Admin => Self::Admin,
        }
    }
}

/// Data sets `portfolio seed` can load.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum SeedSet {
    /// The demo portfolio: processes, services, offerings, a PMO project, changes, releases.
    Demo,
    /// The deterministic synthetic portfolio for benchmarks (scale 1: 20,000 changes).
    Synthetic {
        /// Size multiplier: scale N has N × (500 people, 1,000 services, 20,000 changes, …).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        scale: u32,
    },
}

/// Settings of `portfolio serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "PORTFOLIO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Load the demo portfolio into an empty database (always done on the embedded default).
    #[arg(long, env = "PORTFOLIO_DEMO")]
    pub demo: bool,

    /// Allow reads without a token. Defaults to on for the embedded default database and with
    /// `--demo`, and off for any other database.
    #[arg(long, env = "PORTFOLIO_ANONYMOUS_READ")]
    pub anonymous_read: Option<bool>,

    /// Largest number of pooled database connections (default: 4 on SQLite, 10 on PostgreSQL).
    #[arg(long, env = "PORTFOLIO_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,

    /// Deepest selection nesting a query may have.
    #[arg(long, env = "PORTFOLIO_MAX_DEPTH", default_value_t = 16)]
    pub max_depth: usize,

    /// Largest complexity (number of selected fields) a query may have.
    #[arg(long, env = "PORTFOLIO_MAX_COMPLEXITY", default_value_t = 50_000)]
    pub max_complexity: usize,

    /// Most GraphQL operations executed at once (others wait their turn), shared evenly by
    /// the worker threads (one per core). Bounds the memory of large answers being built
    /// while letting a worker build one answer as another waits for the database; default:
    /// twice the number of CPU cores.
    #[arg(long, env = "PORTFOLIO_MAX_CONCURRENT_OPERATIONS")]
    pub max_concurrent_operations: Option<usize>,

    /// Events a subscriber may fall behind before it skips the oldest ones (and gets an
    /// EVENTS_MISSED error telling it to refetch).
    #[arg(long, env = "PORTFOLIO_EVENT_BUFFER", default_value_t = 1024)]
    pub event_buffer: usize,

    /// WebSocket: ping a client after this long without hearing from it (e.g. `15s`).
    #[arg(long, env = "PORTFOLIO_WS_PING_INTERVAL", default_value = "15s", value_parser = humantime::parse_duration)]
    pub ws_ping_interval: Duration,

    /// WebSocket: disconnect a client silent this long, pings unanswered (e.g. `45s`).
    #[arg(long, env = "PORTFOLIO_WS_IDLE_TIMEOUT", default_value = "45s", value_parser = humantime::parse_duration)]
    pub ws_idle_timeout: Duration,

    /// WebSocket: disconnect a client whose socket accepts nothing for this long (e.g. `10s`).
    #[arg(long, env = "PORTFOLIO_WS_SEND_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub ws_send_timeout: Duration,

    /// Largest request body in bytes; a larger one is refused with 413.
    #[arg(long, env = "PORTFOLIO_MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    /// Most operations in one batched POST (a JSON array of requests).
    #[arg(long, env = "PORTFOLIO_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// Most aliased fields in one document, fragments expanded (alias batching attacks).
    #[arg(long, env = "PORTFOLIO_MAX_ALIASES", default_value_t = 50)]
    pub max_aliases: usize,

    /// Longest an operation may execute before it is stopped with LIMIT_EXCEEDED (e.g. `30s`).
    #[arg(long, env = "PORTFOLIO_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Operations slower than this are logged with their name and duration (e.g. `1s`).
    #[arg(long, env = "PORTFOLIO_SLOW_REQUEST", default_value = "1s", value_parser = humantime::parse_duration)]
    pub slow_request: Duration,

    /// Answer introspection (`__schema`, `__type`) and suggest field names in errors. Turn it
    /// off where the schema should not be discoverable.
    #[arg(long, env = "PORTFOLIO_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Serve the GraphiQL IDE at `/`.
    #[arg(long, env = "PORTFOLIO_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,

    /// Browser origins allowed to call the API, comma-separated (e.g.
    /// `https://portal.example`); none: no cross-origin access. A listed set also applies to
    /// same-origin pages that send an `Origin` header, such as GraphiQL: list the server's
    /// own origin too if you use it.
    #[arg(long, env = "PORTFOLIO_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// How long a batch loader waits for more keys, after letting the request's resolvers
    /// run for a few turns of the scheduler (which gathers one level of a query), before it
    /// runs its statement (e.g. `1ms`). Longer trades latency for fewer statements.
    #[arg(long, env = "PORTFOLIO_LOADER_DELAY", default_value = "0s", value_parser = humantime::parse_duration)]
    pub loader_delay: Duration,

    /// Documents remembered for automatic persisted queries (per instance).
    #[arg(long, env = "PORTFOLIO_APQ_CACHE", default_value_t = 1000)]
    pub apq_cache: usize,

    /// Operations per second each caller (API token, or client address without one) may
    /// send, per instance: each operation of a batch, each WebSocket subscription and each
    /// CSV export counts. Over it, requests get 429 with `Retry-After`. 0 turns limits off.
    #[arg(long, env = "PORTFOLIO_RATE_LIMIT", default_value_t = 2000)]
    pub rate_limit: u32,

    /// Operations a caller may send at once above its rate, after a quiet spell.
    #[arg(long, env = "PORTFOLIO_RATE_BURST", default_value_t = 4000)]
    pub rate_burst: u32,

    /// The portal's page of a change, for links in the calendar feed: `{number}` is
    /// replaced by the change number. Unset: links open this server's GraphiQL on the change.
    #[arg(long, env = "PORTFOLIO_CHANGE_URL")]
    pub change_url: Option<String>,

    /// Run this instance's webhook delivery worker (every instance may: they share the
    /// outbox without sending anything twice).
    #[arg(long, env = "PORTFOLIO_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_worker: bool,

    /// Webhooks: longest wait for a receiver's whole answer (e.g. `15s`).
    #[arg(long, env = "PORTFOLIO_WEBHOOK_TIMEOUT", default_value = "15s", value_parser = humantime::parse_duration)]
    pub webhook_timeout: Duration,

    /// Webhooks: delay before the first retry; each next one doubles it, up to an hour.
    #[arg(long, env = "PORTFOLIO_WEBHOOK_FIRST_RETRY", default_value = "5s", value_parser = humantime::parse_duration)]
    pub webhook_first_retry: Duration,

    /// Webhooks: how long a delivery is retried before it is marked FAILED.
    #[arg(long, env = "PORTFOLIO_WEBHOOK_MAX_AGE", default_value = "24h", value_parser = humantime::parse_duration)]
    pub webhook_max_age: Duration,

    /// Webhooks: deliveries sent at once by this instance.
    #[arg(long, env = "PORTFOLIO_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,

    /// Webhooks: how long delivered and failed deliveries are kept (then deleted).
    #[arg(long, env = "PORTFOLIO_WEBHOOK_RETENTION", default_value = "30days", value_parser = humantime::parse_duration)]
    pub webhook_retention: Duration,

    /// Webhooks on PostgreSQL: how often to look for deliveries other instances wrote.
    #[arg(long, env = "PORTFOLIO_WEBHOOK_POLL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub webhook_poll: Duration,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            demo: false,
            anonymous_read: None,
            db_max_connections: None,
            max_depth: 16,
            max_complexity: 50_000,
            max_concurrent_operations: None,
            event_buffer: 1024,
            ws_ping_interval: Duration::from_secs(15),
            ws_idle_timeout: Duration::from_secs(45),
            ws_send_timeout: Duration::from_secs(10),
            max_body_bytes: 1_048_576,
            max_batch: 10,
            max_aliases: 50,
            request_timeout: Duration::from_secs(30),
            slow_request: Duration::from_secs(1),
            introspection: true,
            graphiql: true,
            cors_origins: Vec::new(),
            apq_cache: 1000,
            loader_delay: Duration::ZERO,
            rate_limit: 2000,
            rate_burst: 4000,
            change_url: None,
            webhook_worker: true,
            webhook_timeout: Duration::from_secs(15),
            webhook_first_retry: Duration::from_secs(5),
            webhook_max_age: Duration::from_secs(24 * 3600),
            webhook_concurrency: 16,
            webhook_poll: Duration::from_secs(1),
            webhook_retention: Duration::from_secs(30 * 86_400),
        }
    }
}

/// A URL with its password, if any, replaced by `****`.
pub fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:****{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

/// The effective settings of `matches` (parsed by `command`): name, value and source, for
/// every argument that is a setting; secrets masked.
pub fn effective(
    command: &clap::Command,
    matches: &clap::ArgMatches,
) -> Vec<(String, String, String)> {
    use clap::parser::ValueSource;
    command
        .get_arguments()
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
        .map(|a| {
            let id = a.get_id().as_str();
            let name = a.get_long().unwrap_or(id).to_owned();
            let raw: Vec<String> = matches
                .get_raw(id)
                .map(|vals| vals.map(|v| v.to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            let mut value = if raw.is_empty() {
                "(not set)".to_owned()
            } else {
                raw.join(",")
            };
            if name.contains("url") {
                value = mask_password(&value);
            }
            let source = match matches.value_source(id) {
                Some(ValueSource::CommandLine) => "flag".to_owned(),
                Some(ValueSource::EnvVariable) => a
                    .get_env()
                    .map(|e| format!("env {}", e.to_string_lossy()))
                    .unwrap_or_else(|| "env".to_owned()),
                Some(ValueSource::DefaultValue) => "default".to_owned(),
                _ => "default".to_owned(),
            };
            (name, value, source)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_password("postgres://app:s3cret@db.internal:5432/portfolio"),
            "postgres://app:****@db.internal:5432/portfolio"
        );
        assert_eq!(
            mask_password("postgres://app@db/portfolio"),
            "postgres://app@db/portfolio"
        );
        assert_eq!(
            mask_password("sqlite://portfolio.db?mode=rwc"),
            "sqlite://portfolio.db?mode=rwc"
        );
    }
}
