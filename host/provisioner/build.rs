//! Embeds what `provisioner connector new` writes: every file of `sdk/templates/*`,
//! `sdk/{rust,js,python}` and `wit/v0.2`, so an installed binary needs no source tree.

use std::path::{Path, PathBuf};

#[path = "src/cli/connector/walk.rs"]
mod walk;

/// The source directories carried, relative to the workspace root.
const DIRS: &[&str] = &[
    "sdk/templates",
    "sdk/rust",
    "sdk/js",
    "sdk/python",
    "wit/v0.2",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .ancestors()
        .nth(2)
        .expect("the crate is at host/provisioner in the workspace")
        .to_path_buf();
    let mut code =
        String::from("/// Embedded source files: (path from the workspace root, bytes).\n");
    code += "pub static FILES: &[(&str, &[u8])] = &[\n";
    for dir in DIRS {
        watch(&root, dir);
        for file in walk::files(&root, dir) {
            let absolute = root.join(&file);
            code += &format!(
                "    ({file:?}, include_bytes!({:?})),\n",
                absolute.display().to_string()
            );
        }
    }
    code += "];\n";
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");
}

/// Reruns when `dir` changes, or, while it does not exist, when its nearest existing parent
/// below the root does (a missing path would rerun the script on every build), else when the
/// workspace manifest does (new directories come with new members).
fn watch(root: &Path, dir: &str) {
    let mut path = root.join(dir);
    while !path.exists() && path != root {
        path = path.parent().unwrap_or(root).to_path_buf();
    }
    if path == root {
        path = root.join("Cargo.toml");
    }
    println!("cargo:rerun-if-changed={}", path.display());
}
