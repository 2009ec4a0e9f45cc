//! `provisioner`: the command-line entry point of the provisioning host.

mod cli;

fn main() -> anyhow::Result<()> {
    cli::run()
}
