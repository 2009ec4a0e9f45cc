//! `provisioner connector ...`: work with connector components, one module per command.
//!
//! - `inspect`: metadata, configuration schema and egress of a component;
//! - `check`: the conformance kit (lints, `validate`, every operation against a scripted mock
//!   target with injected faults);
//! - `invoke`: one operation against a real endpoint, printing the requests;
//! - `new`: a connector project from the embedded templates.

mod check;
mod inspect;
mod invoke;
mod lint;
mod mock_target;
mod new;
mod props;
#[cfg(test)]
mod walk;

use clap::{Args, Subcommand};

/// Connector component commands.
#[derive(Debug, Args)]
pub struct ConnectorArgs {
    #[command(subcommand)]
    command: ConnectorCommand,
}

#[derive(Debug, Subcommand)]
enum ConnectorCommand {
    /// Print a connector's metadata and configuration schema.
    Inspect {
        /// The connector: a component file (`.wasm`) or `builtin:<name>`.
        connector: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check a connector against the contract: metadata and schema lints, `validate`, and
    /// create/update/delete/lookup against a mock target with injected faults.
    Check(check::CheckArgs),
    /// Run one operation against a real endpoint and print each request and response.
    Invoke(invoke::InvokeArgs),
    /// Write a new connector project (Rust, JavaScript or Python) that passes `check`.
    New(new::NewArgs),
}

/// Runs a connector command.
pub async fn run(args: ConnectorArgs) -> anyhow::Result<()> {
    match args.command {
        ConnectorCommand::Inspect { connector, json } => inspect::run(&connector, json).await,
        ConnectorCommand::Check(args) => check::run(args).await,
        ConnectorCommand::Invoke(args) => invoke::run(args).await,
        ConnectorCommand::New(args) => new::run(args),
    }
}
