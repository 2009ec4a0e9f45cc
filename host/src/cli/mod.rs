//! Command-line interface: one module per command group.

use clap::{Parser, Subcommand};

/// Outbound identity provisioning through sandboxed WebAssembly connectors.
#[derive(Debug, Parser)]
#[command(name = "provisioner", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {}

/// Parses the command line and runs the chosen command.
pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
