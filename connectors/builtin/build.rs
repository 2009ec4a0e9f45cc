//! Builds the built-in connectors from source and copies each component into `OUT_DIR`, where
//! `src/lib.rs` embeds its bytes.

use component_build::{build, Components};

fn main() {
    let built = build(&Components {
        name: "builtin",
        packages: &[
            ("salesforce-connector", "connectors/salesforce"),
            ("scim-connector", "connectors/scim"),
        ],
        features: &[],
    });
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::copy(&built[0], out.join("salesforce.wasm")).expect("copy the Salesforce component");
    std::fs::copy(&built[1], out.join("scim.wasm")).expect("copy the SCIM component");
}
