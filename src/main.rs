//! The `portfolio` binary: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use portfolio::config::{Cli, Command, SeedSet, TokenCommand};
use portfolio::domain::tokens;
use portfolio::{db, graphql, seed, startup::Application, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        None => serve(&cli.database_url, &cli.serve).await,
        Some(Command::Serve(args)) => serve(&cli.database_url, &args).await,
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

async fn serve(
    database_url: &str,
    args: &portfolio::config::ServeArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    let app = Application::build(database_url, args).await?;
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
