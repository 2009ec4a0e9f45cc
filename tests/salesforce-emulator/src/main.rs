//! `salesforce-emulator`: runs the emulator standalone and prints its URL and credentials.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use salesforce_emulator::{Emulator, EmulatorConfig};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(
    name = "salesforce-emulator",
    about = "A local Salesforce org emulator (OAuth + User REST API)"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// JSON file with an EmulatorConfig (missing keys take their defaults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Block the username-password flow.
    #[arg(long)]
    password_flow_blocked: bool,
    /// Behave like login.salesforce.com (client credentials refused).
    #[arg(long)]
    login_host: bool,
    /// Number of user licences.
    #[arg(long)]
    licences: Option<u32>,
    /// Daily API request allocation.
    #[arg(long)]
    api_max: Option<u64>,
    /// PEM RSA public key file that verifies JWT bearer assertions.
    #[arg(long)]
    jwt_public_key: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str::<EmulatorConfig>(&text)
                .with_context(|| format!("parsing {}", path.display()))?
        }
        None => EmulatorConfig::default(),
    };
    config.password_flow_blocked |= args.password_flow_blocked;
    config.login_host |= args.login_host;
    if let Some(l) = args.licences {
        config.licences = l;
    }
    if let Some(m) = args.api_max {
        config.api_max = m;
    }
    if let Some(path) = &args.jwt_public_key {
        let pem =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config.jwt_public_key_pem = Some(pem);
    }
    let emu = Emulator::start_on(args.listen, config.clone()).await?;
    println!("Salesforce emulator listening on {}", emu.base_url());
    println!("  token endpoint : {}", emu.token_url());
    println!("  data API       : {}", emu.data_url());
    println!("  control API    : {}/__emulator__/info", emu.base_url());
    println!("  client_id      : {}", config.client_id);
    println!("  client_secret  : {}", config.client_secret);
    println!("  username       : {}", config.username);
    println!("  password       : {}", config.password);
    println!("  security token : {}", config.security_token);
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emu.shutdown().await;
    Ok(())
}
