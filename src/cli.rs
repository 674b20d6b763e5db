//! The commands of the `portfolio` binary, each a short body over the library: serve,
//! config, export, import, schema, migrate, token and seed. `main.rs` only parses the command
//! line and sets up logging.

use clap::{ArgMatches, CommandFactory};

use crate::config::{self, Cli, Command, SeedSet, ServeArgs, TokenCommand};
use crate::domain::{Actor, EventBus, Governance, tokens};
use crate::startup::Application;
use crate::{catalog_file, db, graphql, seed, transfer};

/// Runs the command of `cli` (`serve` when none); `matches` tell where each setting came from.
pub async fn run(cli: Cli, matches: &ArgMatches) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        None => serve(&cli.database_url, &cli.serve).await,
        Some(Command::Serve(args)) => serve(&cli.database_url, &args).await,
        Some(Command::Config(ref serve_args)) => {
            print_config(&cli, serve_args, matches);
            Ok(())
        }
        Some(Command::Export { output }) => {
            let (conn, _) = db::connect(&cli.database_url, None).await?;
            db::migrate(&conn).await?;
            let started = std::time::Instant::now();
            let rows = match output {
                Some(path) => {
                    let file = std::fs::File::create(&path)?;
                    let mut out = std::io::BufWriter::new(file);
                    transfer::export(&conn, &mut out).await?
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    transfer::export(&conn, &mut out).await?
                }
            };
            eprintln!(
                "exported {rows} rows in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some(Command::Import { file }) => {
            let document =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let (conn, _) = db::connect(&cli.database_url, None).await?;
            db::migrate(&conn).await?;
            let started = std::time::Instant::now();
            let rows = transfer::import(&conn, &document).await?;
            println!(
                "imported {rows} rows in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Some(Command::ImportCatalog { file, dry_run }) => {
            let (conn, _) = db::connect(&cli.database_url, None).await?;
            db::migrate(&conn).await?;
            import_catalog(conn, &file, dry_run).await
        }
        Some(Command::Schema) => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Some(Command::Migrate) => {
            let (conn, _) = db::connect(&cli.database_url, None).await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
            Ok(())
        }
        Some(Command::Token { action }) => {
            let (conn, _) = db::connect(&cli.database_url, None).await?;
            db::migrate(&conn).await?;
            token(&conn, action).await
        }
        Some(Command::Seed { set }) => {
            let (conn, _) = db::connect(&cli.database_url, None).await?;
            db::migrate(&conn).await?;
            if !seed::is_empty(&conn).await? {
                return Err(
                    "the database is not empty; data sets load only into an empty database".into(),
                );
            }
            let started = std::time::Instant::now();
            let counts = match set {
                SeedSet::Demo => seed::demo::load(&conn).await?.to_string(),
                SeedSet::Synthetic { scale } => seed::synthetic::load(&conn, scale as usize)
                    .await?
                    .to_string(),
            };
            println!(
                "loaded {counts} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// `portfolio import-catalog FILE [--dry-run]`: the report on standard output, one line per
/// row that was not left unchanged; fails (exit status 1) when a row was refused.
async fn import_catalog(
    conn: sea_orm::DatabaseConnection,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    use crate::domain::catalog_upsert::Outcome;
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let rows = match file.extension().and_then(|e| e.to_str()) {
        Some("csv") => catalog_file::from_csv(&text)?,
        Some("json") => catalog_file::from_json(&text)?,
        _ => return Err(format!("{}: give a .csv or a .json file", file.display()).into()),
    };
    let started = std::time::Instant::now();
    let governance = Governance::new(conn, EventBus::in_process(1));
    let report = governance
        .upsert_catalog(&Actor::operator(), rows, dry_run)
        .await
        .map_err(|e| e.operator_message())?;
    for row in report
        .rows
        .iter()
        .filter(|r| r.outcome != Outcome::Unchanged)
    {
        let outcome = format!("{:?}", row.outcome).to_lowercase();
        match &row.reason {
            Some(why) => println!("{}: {outcome} {} {}: {why}", row.source, row.kind, row.key),
            None => println!("{}: {outcome} {} {}", row.source, row.kind, row.key),
        }
    }
    println!(
        "{} created, {} updated, {} unchanged, {} refused in {:.1} s; {}",
        report.created,
        report.updated,
        report.unchanged,
        report.refused,
        started.elapsed().as_secs_f64(),
        match (report.written, dry_run) {
            (true, _) => "written",
            (false, true) => "dry run: nothing written",
            (false, false) => "nothing written",
        }
    );
    if report.refused > 0 {
        return Err(format!("{} rows refused; nothing was written", report.refused).into());
    }
    Ok(())
}

/// `portfolio config`: every setting's effective value and where it came from.
fn print_config(cli: &Cli, serve_args: &ServeArgs, matches: &ArgMatches) {
    let top = Cli::command();
    let mut rows: Vec<(String, String, String)> = config::effective(&top, matches)
        .into_iter()
        .filter(|(name, _, _)| {
            matches!(name.as_str(), "database-url" | "log-filter" | "log-format")
        })
        .collect();
    if let (Some(sub), Some(sub_matches)) = (
        top.find_subcommand("config"),
        matches.subcommand_matches("config"),
    ) {
        rows.extend(config::effective(sub, sub_matches));
    }
    // Settings left unset take a value from the engine or the host: show which.
    for (name, value, source) in &mut rows {
        if value != "(not set)" {
            continue;
        }
        let derived = match name.as_str() {
            "anonymous-read" => {
                let (on, why) = config::anonymous_read(serve_args, &cli.database_url);
                Some((on.to_string(), why))
            }
            "db-max-connections" => {
                let (n, why) = config::pool_size(&cli.database_url, None);
                Some((n.to_string(), why))
            }
            "max-concurrent-operations" => {
                let (n, why) = config::concurrent_operations(None);
                Some((n.to_string(), why))
            }
            _ => None,
        };
        if let Some((v, why)) = derived {
            *value = v;
            *source = why.to_owned();
        }
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (name, value, source) in rows {
        println!("{name:<width$}  {value}  ({source})");
    }
}

/// `portfolio token create|revoke`.
async fn token(
    conn: &sea_orm::DatabaseConnection,
    action: TokenCommand,
) -> Result<(), Box<dyn std::error::Error>> {
    match action {
        TokenCommand::Create {
            email,
            name,
            scope,
            label,
            expires_in_days,
        } => {
            let issued = tokens::create(
                conn,
                tokens::TokenRequest {
                    email,
                    person_name: name,
                    scope: scope.into(),
                    label,
                    expires_at: expires_in_days
                        .map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d))),
                },
            )
            .await?;
            eprintln!(
                "token {} for {} (person {}), scope {}{}; shown once, keep it secret:",
                issued.id,
                issued.email,
                issued.person_id,
                issued.scope.as_str(),
                issued
                    .expires_at
                    .map(|t| format!(", expires {}", t.to_rfc3339()))
                    .unwrap_or_default()
            );
            println!("{}", issued.token);
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            let row = tokens::revoke(conn, id).await?;
            println!("token {} ({}) revoked", row.id, row.name);
            Ok(())
        }
    }
}

/// `portfolio serve`: build the application, say how to use it, serve until stopped.
async fn serve(database_url: &str, args: &ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let app = Application::build(database_url, args).await?;
    let (anonymous, why) = app.anonymous_read();
    println!(
        "Reads without a token: {} ({why}; `--anonymous-read` sets it)",
        if anonymous { "allowed" } else { "refused" }
    );
    if !app.demo_tokens().is_empty() {
        println!(
            "\nDemo tokens (valid 30 days; a restart issues new ones). In GraphiQL, add the header"
        );
        println!("  {{\"Authorization\": \"Bearer <token>\"}}");
        for t in app.demo_tokens() {
            println!(
                "\n  {:<10} {}\n             {}",
                t.persona, t.description, t.token
            );
        }
        println!("\nGraphiQL: http://127.0.0.1:{}/\n", app.port());
    }
    app.run_until_stopped().await?;
    Ok(())
}
