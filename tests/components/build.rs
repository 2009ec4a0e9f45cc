//! Builds the test guests and exports each component's path to the crate as
//! `COMPONENT_<PACKAGE>`, with the frozen contract 0.1.0 fixture's beside them.

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
    // The Salesforce connector as it was built for contract 0.1.0, frozen as a binary (see
    // `fixtures/README.md`): proves old components load.
    let legacy = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("salesforce-connector-v0_1.wasm");
    println!("cargo:rerun-if-changed={}", legacy.display());
    export("salesforce-connector-v0-1", &legacy);
}
