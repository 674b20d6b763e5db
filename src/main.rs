//! The `portfolio` binary: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use portfolio::config::{Cli, Command, SeedSet};
use portfolio::{db, graphql, seed, startup::Application, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let cli = Cli::parse();
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
        Some(Command::Seed { set: SeedSet::Demo }) => {
            let (conn, _) = db::connect(&cli.database_url, None).await?;
            db::migrate(&conn).await?;
            if !seed::is_empty(&conn).await? {
                return Err("the database is not empty; the demo portfolio loads only into an empty database".into());
            }
            let counts = seed::demo::load(&conn).await?;
            println!("loaded the demo portfolio: {counts}");
            Ok(())
        }
    }
}

async fn serve(
    database_url: &str,
    args: &portfolio::config::ServeArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    let app = Application::build(database_url, args).await?;
    app.run_until_stopped().await?;
    Ok(())
}
