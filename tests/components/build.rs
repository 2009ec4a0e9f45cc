//! Builds the test components and exports each path to the crate as `COMPONENT_<PACKAGE>`.

use component_build::{build, Components};

const GUESTS: &[(&str, &str)] = &[
    ("guest-endless-loop", "tests/guests/endless-loop"),
    ("guest-memory-hog", "tests/guests/memory-hog"),
    ("guest-exfiltrator", "tests/guests/exfiltrator"),
    ("guest-echo", "tests/guests/echo"),
    ("guest-future-contract", "tests/guests/future-contract"),
    ("guest-overreach", "tests/guests/overreach"),
    ("guest-broken", "tests/guests/broken"),
];

fn export(package: &str, path: &std::path::Path) {
    let var = format!("COMPONENT_{}", package.to_uppercase().replace('-', "_"));
    println!("cargo:rustc-env={var}={}", path.display());
}

fn main() {
    let guests = build(&Components {
        name: "test-guests",
        packages: GUESTS,
        features: &[],
    });
    for ((package, _), path) in GUESTS.iter().zip(&guests) {
        export(package, path);
    }
    // The Salesforce connector built for contract 0.1.0: proves old components load.
    let legacy = build(&Components {
        name: "salesforce-v0_1",
        packages: &[("salesforce-connector", "connectors/salesforce")],
        features: &["salesforce-connector/contract-v0-1"],
    });
    export("salesforce-connector-v0-1", &legacy[0]);
}
