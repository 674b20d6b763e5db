//! The `portfolio` binary: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use portfolio::config::Cli;
use portfolio::{cli, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    telemetry::init(&cli.log_filter, cli.log_format);
    match cli::run(cli, &matches).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let e = match e.downcast_ref::<portfolio::error::AppError>() {
                Some(app) => app.operator_message(),
                None => e.to_string(),
            };
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
