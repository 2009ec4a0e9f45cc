//! Build-script helper: compiles workspace crates to `wasm32-wasip2` components.
//!
//! A build script calls [`build`] with the packages it needs; the helper runs a nested
//! `cargo build --release --target wasm32-wasip2` in its own target directory (so it never waits
//! on the lock of the build that runs the script), tells cargo to rerun the script when the
//! contract or the packages' sources change, and returns each component's path.
//!
//! Used by `builtin-connectors` (components embedded in the binary) and `test-components` (test
//! fixtures); it depends on nothing but the standard library.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A set of packages to build in one nested cargo invocation.
pub struct Components<'a> {
    /// Name of the nested target directory under `<workspace>/target/components/`; separate
    /// names keep builds with different features from overwriting each other's artifacts.
    pub name: &'a str,
    /// Packages to build: (package name, crate directory relative to the workspace root).
    pub packages: &'a [(&'a str, &'a str)],
    /// Cargo features to enable (`package/feature`).
    pub features: &'a [&'a str],
}

/// The workspace root: the nearest ancestor of the calling crate that holds `wit/`.
pub fn workspace_root() -> PathBuf {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("run from a build script"));
    manifest_dir
        .ancestors()
        .find(|dir| dir.join("wit").is_dir() && dir.join("Cargo.toml").is_file())
        .expect("the crate is inside the provisioner workspace (a directory with wit/)")
        .to_path_buf()
}

/// Builds `components` and returns each package's `.wasm` path, in the order given.
///
/// Panics with an explanation when the build fails (a build script has no other way to fail).
pub fn build(components: &Components) -> Vec<PathBuf> {
    let workspace = workspace_root();
    let target_dir = nested_target_dir(&workspace).join(components.name);

    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    for (_, dir) in components.packages {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).display());
    }
    // Components built on the SDK change with it.
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("sdk").join("rust").display()
    );

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
    for (package, _) in components.packages {
        cmd.args(["-p", package]);
    }
    if !components.features.is_empty() {
        cmd.args(["--features", &components.features.join(",")]);
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

    components
        .packages
        .iter()
        .map(|(package, _)| {
            let path = target_dir
                .join("wasm32-wasip2")
                .join("release")
                .join(format!("{}.wasm", package.replace('-', "_")));
            assert!(
                path.is_file(),
                "component {} was not produced",
                path.display()
            );
            path
        })
        .collect()
}

/// `$CARGO_TARGET_DIR/components`, else `<workspace>/target/components`.
fn nested_target_dir(workspace: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace.join(dir)
            }
        })
        .unwrap_or_else(|| workspace.join("target"))
        .join("components")
}
