//! `salesforce-emulator`: runs the emulator standalone and prints its URL, credentials and
//! control token (and, with `--https`, where its CA certificate is).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use salesforce_emulator::{Emulator, EmulatorConfig, ServeOptions};

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
    /// Serve HTTPS with a certificate from a CA generated at start.
    #[arg(long)]
    https: bool,
    /// With --https: write the generated CA certificate (PEM) to this file, for clients to trust
    /// (default: print it).
    #[arg(long, requires = "https")]
    ca_out: Option<PathBuf>,
    /// Leave the control API open to anyone who can reach the port (no control token).
    #[arg(long)]
    open_control: bool,
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
    let mut options = ServeOptions::default();
    if args.https {
        options = options.https();
    }
    if args.open_control {
        options = options.open_control();
    }
    let emu = Emulator::start_on(args.listen, config.clone(), options).await?;
    println!("Salesforce emulator listening on {}", emu.base_url());
    println!("  token endpoint : {}", emu.token_url());
    println!("  data API       : {}", emu.data_url());
    println!("  control API    : {}/__emulator__/info", emu.base_url());
    match emu.control_token() {
        Some(token) => {
            println!("  control token  : {token}  (send `Authorization: Bearer <token>`)")
        }
        None => println!("  control token  : none (--open-control: anyone on the port may use it)"),
    }
    println!("  client_id      : {}", config.client_id);
    println!("  client_secret  : {}", config.client_secret);
    println!("  username       : {}", config.username);
    println!("  password       : {}", config.password);
    println!("  security token : {}", config.security_token);
    if let Some(pem) = emu.ca_certificate_pem() {
        match &args.ca_out {
            Some(path) => {
                std::fs::write(path, pem).with_context(|| format!("writing {}", path.display()))?;
                println!("  CA certificate : {}", path.display());
            }
            None => println!("  CA certificate :\n{pem}"),
        }
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    emu.shutdown().await;
    Ok(())
}
