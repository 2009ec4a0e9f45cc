//! `provisioner admin ...`: the admin API's own artifacts, e.g. its OpenAPI document.

use clap::{Args, Subcommand};

/// Options of `admin`.
#[derive(Debug, Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Print the admin API's OpenAPI document (JSON), generated from the server's code; the
    /// repository keeps it as `docs/openapi.json`.
    Openapi,
}

/// Runs an `admin` command.
pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    match args.command {
        AdminCommand::Openapi => {
            println!("{}", provisioner_server::admin::openapi_text());
        }
    }
    Ok(())
}
