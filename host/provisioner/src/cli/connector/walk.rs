//! Which files of the source tree `connector new` carries: shared by the build script (which
//! embeds them) and the scaffolding tests. Depends on the standard library only.

use std::path::Path;

/// Directories never carried (build output, installed packages, caches).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", "__pycache__", ".git"];

/// Every regular file under `root/dir`, as a `/`-separated path relative to `root`, sorted.
/// Skips [`SKIPPED_DIRS`], `*.wasm` files and symbolic links; a missing `dir` has no files.
pub fn files(root: &Path, dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    walk(root, &root.join(dir), &mut found);
    found.sort();
    found
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(root, &path, found);
            }
        } else if kind.is_file() && !name.ends_with(".wasm") {
            if let Ok(relative) = path.strip_prefix(root) {
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push(parts.join("/"));
            }
        }
    }
}
