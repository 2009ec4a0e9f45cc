//! Builds the workspace's wasm components with a nested `cargo build --target wasm32-wasip2`.
//!
//! The nested build uses its own target directory (`<target>/components`) so it never waits on
//! the lock of the build that runs this script. Each component's path is exported to the crate as
//! an environment variable named `COMPONENT_<PACKAGE>` (upper case, `-` as `_`).

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// Packages built as components: (package name, crate directory relative to the workspace).
const COMPONENTS: &[(&str, &str)] = &[
    ("salesforce-connector", "connectors/salesforce"),
    ("guest-endless-loop", "tests/guests/endless-loop"),
    ("guest-memory-hog", "tests/guests/memory-hog"),
    ("guest-exfiltrator", "tests/guests/exfiltrator"),
    ("guest-echo", "tests/guests/echo"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        })
        .unwrap_or_else(|| workspace.join("target"))
        .join("components");

    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    let present: Vec<_> = COMPONENTS
        .iter()
        .filter(|(_, dir)| workspace.join(dir).join("Cargo.toml").exists())
        .collect();
    for (_, dir) in &present {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for (package, _) in &present {
        cmd.args(["-p", package]);
    }
    // The outer build's flags and jobserver settings are for the host target, not for wasm.
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_") && key != "CARGO_HOME" || key == "RUSTFLAGS" {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the wasm components");
    if !status.success() {
        panic!(
            "building the wasm components failed; is the target installed? \
             Run `rustup target add wasm32-wasip2`."
        );
    }

    for (package, _) in &present {
        let file = package.replace('-', "_");
        let path = target_dir
            .join("wasm32-wasip2")
            .join("release")
            .join(format!("{file}.wasm"));
        assert!(
            path.is_file(),
            "component {} was not produced",
            path.display()
        );
        let var = format!("COMPONENT_{}", package.to_uppercase().replace('-', "_"));
        println!("cargo:rustc-env={var}={}", path.display());
    }
}
