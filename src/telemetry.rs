//! Logging: `tracing` with an `RUST_LOG`-style filter (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (as in tests) are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
