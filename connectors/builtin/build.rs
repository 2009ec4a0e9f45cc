//! Builds the built-in connectors from source and copies each component into `OUT_DIR`, where
//! `src/lib.rs` embeds its bytes.

use component_build::{build, Components};

fn main() {
    let built = build(&Components {
        name: "builtin",
        packages: &[("salesforce-connector", "connectors/salesforce")],
        features: &[],
    });
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::copy(&built[0], out.join("salesforce.wasm")).expect("copy the Salesforce component");
}
