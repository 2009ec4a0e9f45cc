//! Command-line interface: one module per command group.

mod admin;
mod connector;
mod dispatch;
#[cfg(feature = "quickstart")]
mod emulated_org;
mod exchanges;
mod ops;
#[cfg(feature = "quickstart")]
mod quickstart;
mod reconcile;
mod serve;
mod sync;
mod target;
mod users;

use clap::{Parser, Subcommand};

/// Outbound identity provisioning through sandboxed WebAssembly connectors.
#[derive(Debug, Parser)]
#[command(name = "provisioner", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The admin API: print its OpenAPI document.
    Admin(admin::AdminArgs),
    /// Work with connector components.
    Connector(connector::ConnectorArgs),
    /// Run the tutorial's create/update/deactivate flow against an embedded Salesforce emulator.
    #[cfg(feature = "quickstart")]
    Quickstart(quickstart::QuickstartArgs),
    /// Run the outbox dispatcher: claim due jobs and provision them into their targets.
    Dispatch(dispatch::DispatchArgs),
    /// Run the server: inbound SCIM API, dispatcher and connectors in one process.
    Serve(serve::ServeArgs),
    /// Add, list or delete users without SCIM (same engine path as the SCIM API).
    Users(users::UsersArgs),
    /// Sync every in-scope user to a target (an initial or full sync): resumable, with
    /// progress; exits non-zero when some users ended as dead letters.
    Sync(sync::SyncArgs),
    /// Compare a target's users with the local ones and print each drift; with --repair also
    /// queue the jobs that fix it.
    Reconcile(reconcile::ReconcileArgs),
    #[command(flatten)]
    Ops(ops::OpsCommand),
}

/// Parses the command line and runs the chosen command.
pub fn run() -> anyhow::Result<()> {
    exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match cli.command {
            Command::Admin(args) => admin::run(args).await,
            Command::Connector(args) => connector::run(args).await,
            #[cfg(feature = "quickstart")]
            Command::Quickstart(args) => quickstart::run(args).await,
            Command::Dispatch(args) => dispatch::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Users(args) => users::run(args).await,
            Command::Sync(args) => sync::run(args).await,
            Command::Reconcile(args) => reconcile::run(args).await,
            Command::Ops(command) => ops::run(command).await,
        }
    })
}

/// Makes a closed standard output (`provisioner jobs | head`) end the process quietly, as it
/// ends other command-line tools, instead of with a panic: Rust ignores `SIGPIPE`, so printing
/// to a closed pipe fails, and `println!` panics on that failure.
fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
