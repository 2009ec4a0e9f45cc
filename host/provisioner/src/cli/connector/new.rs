//! `provisioner connector new <name> --lang rust|js|python`: writes a connector project from the
//! templates embedded in the binary (see `build.rs`).
//!
//! 1. every file under `sdk/templates/<lang>/` is written at the same relative path, with
//!    `{{name}}` replaced by the name and `{{name_snake}}` by the name with `-` → `_`;
//! 2. `wit/v0.2/*` is written to `wit/`;
//! 3. every file under `sdk/<lang>/` is written to `vendor/provisioner-sdk/` (and, for Rust, the
//!    WIT again to `vendor/provisioner-sdk/wit/`, standing in for the SDK's symlink).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};

use super::lint::is_kebab_id;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Options of `connector new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The connector's id: lower case, `[a-z][a-z0-9-]*` (e.g. `acme`).
    name: String,
    /// The language of the project.
    #[arg(long, value_enum)]
    lang: Lang,
    /// Where to write the project (default: `./<name>`); must not exist or be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// The languages there are templates for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust, on the `provisioner-sdk` crate.
    Rust,
    /// JavaScript, built with componentize-js.
    Js,
    /// Python, built with componentize-py.
    Python,
}

impl Lang {
    fn dir(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Js => "js",
            Lang::Python => "python",
        }
    }
}

/// The contract version a new project is written against.
const WIT_DIR: &str = "wit/v0.2/";

/// The files of a new project: (path in the project, contents), from `files` (paths from the
/// workspace root and their bytes).
pub fn plan(
    files: &[(&str, &[u8])],
    name: &str,
    lang: Lang,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    if !is_kebab_id(name) {
        bail!(
            "invalid connector name {name:?}: use lower case letters, digits and `-`, starting \
             with a letter (e.g. `acme` or `acme-hr`)"
        );
    }
    let snake = name.replace('-', "_");
    let substitute = |bytes: &[u8]| -> Vec<u8> {
        match std::str::from_utf8(bytes) {
            Ok(text) => text
                .replace("{{name_snake}}", &snake)
                .replace("{{name}}", name)
                .into_bytes(),
            Err(_) => bytes.to_vec(),
        }
    };
    let template = format!("sdk/templates/{}/", lang.dir());
    let sdk = format!("sdk/{}/", lang.dir());
    let mut out = Vec::new();
    for (path, bytes) in files {
        if let Some(relative) = path.strip_prefix(&template) {
            let relative = String::from_utf8(substitute(relative.as_bytes()))?;
            out.push((relative, substitute(bytes)));
        }
    }
    if out.is_empty() {
        bail!(
            "this provisioner carries no {} template (it was built without sdk/templates/{})",
            lang.dir(),
            lang.dir()
        );
    }
    for (path, bytes) in files {
        if let Some(relative) = path.strip_prefix(WIT_DIR) {
            out.push((format!("wit/{relative}"), bytes.to_vec()));
            if lang == Lang::Rust {
                out.push((
                    format!("vendor/provisioner-sdk/wit/{relative}"),
                    bytes.to_vec(),
                ));
            }
        } else if let Some(relative) = path.strip_prefix(&sdk) {
            out.push((format!("vendor/provisioner-sdk/{relative}"), bytes.to_vec()));
        }
    }
    Ok(out)
}

/// Writes `files` under `dir`, which must not exist or be empty.
pub fn write(dir: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("{} exists and is not a readable directory", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} exists and is not empty; choose another --dir or remove it",
                dir.display()
            );
        }
    }
    for (relative, bytes) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The first fenced code block of the project's README: the build command.
fn build_command(files: &[(String, Vec<u8>)]) -> Option<String> {
    let readme = files.iter().find(|(p, _)| p == "README.md")?;
    let text = String::from_utf8_lossy(&readme.1);
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("```"));
    lines.next()?;
    let block: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with("```"))
        .collect();
    (!block.is_empty()).then(|| block.join("\n"))
}

/// Writes the project and prints the next steps.
pub fn run(args: NewArgs) -> anyhow::Result<()> {
    let files = plan(embedded::FILES, &args.name, args.lang)?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    write(&dir, &files)?;
    println!(
        "Wrote the {} connector `{}` to {} ({} files).\n\nNext steps:\n  cd {}",
        args.lang.dir(),
        args.name,
        dir.display(),
        files.len(),
        dir.display()
    );
    match build_command(&files) {
        Some(command) => {
            for line in command.lines() {
                println!("  {line}");
            }
        }
        None => println!("  (see README.md for the build command)"),
    }
    println!(
        "  provisioner connector check <the built .wasm>   # conformance against a mock target"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::connector::walk;

    /// The repository root (this crate is at `host/provisioner`).
    fn repository() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap()
            .to_path_buf()
    }

    /// A source tree with a small template and SDK of its own and the repository's real WIT.
    fn source_tree() -> (tempfile::TempDir, Vec<(String, Vec<u8>)>) {
        let root = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = root.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "sdk/templates/rust/Cargo.toml",
            "[package]\nname = \"{{name}}\"\n[lib]\nname = \"{{name_snake}}\"\n",
        );
        write(
            "sdk/templates/rust/README.md",
            "# {{name}}\n\n```sh\ncargo build --release --target wasm32-wasip2\n```\n",
        );
        write("sdk/templates/rust/src/lib.rs", "// {{name}} connector\n");
        write(
            "sdk/rust/Cargo.toml",
            "[package]\nname = \"provisioner-sdk\"\n",
        );
        write("sdk/rust/src/lib.rs", "//! sdk\n");
        write("sdk/rust/target/debug/junk", "build output");
        write("sdk/rust/guest.wasm", "binary");
        write("sdk/js/index.js", "export {}\n");
        let wit = repository().join("wit/v0.2");
        for entry in std::fs::read_dir(&wit).unwrap() {
            let entry = entry.unwrap();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            write(
                &format!("wit/v0.2/{}", entry.file_name().to_string_lossy()),
                &text,
            );
        }
        let mut files = Vec::new();
        for dir in [
            "sdk/templates",
            "sdk/rust",
            "sdk/js",
            "sdk/python",
            "wit/v0.2",
        ] {
            for file in walk::files(root.path(), dir) {
                let bytes = std::fs::read(root.path().join(&file)).unwrap();
                files.push((file, bytes));
            }
        }
        (root, files)
    }

    fn borrowed(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
        files
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_slice()))
            .collect()
    }

    #[test]
    fn a_rust_project_gets_the_template_the_wit_and_the_vendored_sdk() {
        let (_root, files) = source_tree();
        let project = plan(&borrowed(&files), "acme-hr", Lang::Rust).unwrap();
        let paths: Vec<&str> = project.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "Cargo.toml",
                "README.md",
                "src/lib.rs",
                "vendor/provisioner-sdk/Cargo.toml",
                "vendor/provisioner-sdk/src/lib.rs",
                "wit/connector.wit",
                "vendor/provisioner-sdk/wit/connector.wit",
            ]
        );
        let text = |path: &str| {
            let (_, bytes) = project.iter().find(|(p, _)| p == path).unwrap();
            String::from_utf8(bytes.clone()).unwrap()
        };
        assert_eq!(
            text("Cargo.toml"),
            "[package]\nname = \"acme-hr\"\n[lib]\nname = \"acme_hr\"\n"
        );
        let real_wit =
            std::fs::read_to_string(repository().join("wit/v0.2/connector.wit")).unwrap();
        assert_eq!(text("wit/connector.wit"), real_wit);
        assert!(real_wit.contains("package provisioning:connector@0.2.0"));
        assert_eq!(
            build_command(&project).as_deref(),
            Some("cargo build --release --target wasm32-wasip2")
        );
    }

    #[test]
    fn a_missing_template_bad_names_and_non_empty_directories_are_refused() {
        let (_root, files) = source_tree();
        let error = plan(&borrowed(&files), "acme", Lang::Python).unwrap_err();
        assert!(
            error.to_string().contains("carries no python template"),
            "{error}"
        );
        for bad in ["Acme", "1acme", "acme_hr", "", "-acme"] {
            let error = plan(&borrowed(&files), bad, Lang::Rust).unwrap_err();
            assert!(
                error.to_string().contains("invalid connector name"),
                "{bad}: {error}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let project = plan(&borrowed(&files), "acme", Lang::Rust).unwrap();
        let error = write(dir.path(), &project).unwrap_err();
        assert!(
            error.to_string().contains("exists and is not empty"),
            "{error}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let fresh = dir.path().join("acme");
        write(&fresh, &project).unwrap();
        assert_eq!(
            std::fs::read_to_string(fresh.join("src/lib.rs")).unwrap(),
            "// acme connector\n"
        );
    }
}
