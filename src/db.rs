//! Database connection: pool sizing and SQLite pragmas per engine, migrations, and the
//! statement counter that `/metrics` and the N+1 test read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgSslMode;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// Counts the SQL statements the server executes.
#[derive(Clone, Debug, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    /// Statements executed since start-up.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether a PostgreSQL host is this machine: a loopback name or address, or a socket path.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Connects with settings suited to the engine and counts every statement.
pub async fn connect(
    url: &str,
    max_connections: Option<u32>,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    let (pool, _) = crate::config::pool_size(url, max_connections);
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's nature; WAL lets readers run beside it, and the
        // busy timeout makes writers queue instead of failing at once.
        opts.max_connections(pool)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
                    .create_if_missing(true)
                    .statement_cache_capacity(256)
                    // sqlx hands rows from SQLite's thread to the task through a channel of
                    // 50 by default: a thousand-row answer then wakes each side of it every
                    // few rows. A deeper channel lets the engine's thread run ahead.
                    .row_buffer_size(ROW_BUFFER)
            });
    } else {
        // sqlx, like libpq, uses TLS whenever the server offers it. To a server on this
        // host it protects nothing and costs every answer its encryption; an explicit
        // `sslmode` (in the URL or PGSSLMODE) is obeyed.
        let choose_tls = !url.contains("sslmode=") && std::env::var_os("PGSSLMODE").is_none();
        opts.max_connections(pool)
            .min_connections(1)
            .map_sqlx_postgres_opts(move |o| {
                if choose_tls && is_loopback(o.get_host()) {
                    o.ssl_mode(PgSslMode::Disable)
                } else {
                    o
                }
            });
    }
    let mut db = Database::connect(opts).await?;
    let counter = StatementCounter::default();
    let c = counter.0.clone();
    db.set_metric_callback(move |info| {
        // `RUST_LOG=sql=trace` shows every statement with its duration.
        tracing::trace!(target: "sql", elapsed = ?info.elapsed, "{}", info.statement.sql);
        c.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, counter))
}

/// Rows SQLite's thread may read ahead of the task consuming them (see `connect`).
const ROW_BUFFER: usize = 1024;

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Migrations this binary knows that the database has not applied.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}

/// Whether the engine is the embedded default.
pub fn is_sqlite(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts_are_names_addresses_and_socket_paths_of_this_machine() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.3.2.1",
            "::1",
            "[::1]",
            "/var/run/postgresql",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["db.example", "10.0.0.5", "192.168.1.1", "::2"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
