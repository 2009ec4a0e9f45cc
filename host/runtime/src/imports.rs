//! What a component may import, checked on its bytes before anything is compiled.
//!
//! Compiling a large component (a JavaScript or Python connector) takes tens of seconds, and
//! wasmtime tells what it cannot link only after that. This module reads the top-level import
//! section of the component binary (nested modules and components are skipped, not parsed) and
//! refuses every import outside what the host links, in milliseconds:
//!
//! - the contract: `provisioning:connector/{types,http,log}` of a supported version
//!   ([`provisioner_contract::SUPPORTED`]);
//! - the WASI 0.2 interfaces `wasmtime_wasi::p2::add_to_linker_async` provides ([`WASI_P2`]),
//!   any `0.2.x` patch version (the linker matches patch versions of a `0.x` package).
//!
//! Each refused import carries a reason saying what to do instead.

use std::fmt;

use provisioner_contract::{ContractVersion, PACKAGE};
use wasmparser::{Chunk, Encoding, Parser, Payload};

/// The contract interfaces a connector may import.
const CONTRACT_IMPORTS: &[&str] = &["types", "http", "log"];

/// The WASI 0.2 interfaces the host links (`wasmtime_wasi::p2::add_to_linker_async`), as
/// `package/interface` without the version. Sockets and name lookup are linked but every
/// socket operation is denied at run time.
pub const WASI_P2: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:cli/exit",
    "wasi:cli/environment",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/ip-name-lookup",
];

/// One import the host does not provide, and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedImport {
    /// The import name as the component spells it, e.g. `wasi:http/types@0.2.10`.
    pub name: String,
    /// Why it is refused and what to use instead.
    pub reason: String,
}

/// Why a component's imports were refused before compiling.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportsError {
    /// The bytes could not be read as a component far enough to list its imports.
    #[error("cannot read the component's imports: {0}")]
    Malformed(String),
    /// The component imports interfaces the host does not provide.
    #[error("{}", refused_message(.0))]
    Refused(Vec<RefusedImport>),
}

fn refused_message(refused: &[RefusedImport]) -> String {
    let names: Vec<&str> = refused.iter().map(|r| r.name.as_str()).collect();
    let reasons: Vec<String> = refused
        .iter()
        .map(|r| format!("`{}`: {}", r.name, r.reason))
        .collect();
    format!(
        "refused before compiling: the component imports the host does not provide: [{}]. {}",
        names.join(", "),
        reasons.join("; ")
    )
}

impl fmt::Display for RefusedImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.reason)
    }
}

/// The names of the component's top-level imports, in order. Core modules (not components)
/// have none here: wasmtime refuses them when compiling.
pub fn component_imports(bytes: &[u8]) -> Result<Vec<String>, ImportsError> {
    let malformed = |e: wasmparser::BinaryReaderError| ImportsError::Malformed(e.to_string());
    let mut parser = Parser::new(0);
    let mut offset = 0;
    let mut names = Vec::new();
    loop {
        let (consumed, payload) = match parser.parse(&bytes[offset..], true).map_err(malformed)? {
            Chunk::Parsed { consumed, payload } => (consumed, payload),
            Chunk::NeedMoreData(_) => {
                return Err(ImportsError::Malformed("the file ends early".into()))
            }
        };
        offset += consumed;
        match payload {
            Payload::Version { encoding, .. } if encoding != Encoding::Component => {
                return Ok(Vec::new())
            }
            // The parser has stepped over the nested section; its bytes are left to skip.
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => offset += unchecked_range.len(),
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    names.push(import.map_err(malformed)?.name.name.to_string());
                }
            }
            Payload::End(_) => return Ok(names),
            _ => {}
        }
    }
}

/// Checks the component's imports against what the host links; see the module docs.
pub fn check(bytes: &[u8]) -> Result<(), ImportsError> {
    let refused: Vec<RefusedImport> = component_imports(bytes)?
        .into_iter()
        .filter_map(|name| refusal(&name).map(|reason| RefusedImport { name, reason }))
        .collect();
    if refused.is_empty() {
        Ok(())
    } else {
        Err(ImportsError::Refused(refused))
    }
}

/// Why `name` is refused, or `None` when the host provides it.
fn refusal(name: &str) -> Option<String> {
    let (path, version) = match name.split_once('@') {
        Some((path, version)) => (path, Some(version)),
        None => (name, None),
    };
    let Some((package, interface)) = path.split_once('/') else {
        return Some(
            "not an interface import; a connector imports only the contract's interfaces \
             and WASI 0.2"
                .into(),
        );
    };
    if package == PACKAGE {
        if !CONTRACT_IMPORTS.contains(&interface) {
            return Some(format!(
                "the contract has no importable interface `{interface}`; connectors import \
                 {PACKAGE}/{{types,http,log}}"
            ));
        }
        return match version.and_then(ContractVersion::parse) {
            Some(_) => None,
            None => Some(format!(
                "contract version {} is not supported; this host supports {}",
                version.unwrap_or("(none)"),
                supported_versions()
            )),
        };
    }
    if package == "wasi:http" {
        return Some(
            "the host does not link wasi:http: use the contract's `http` import \
             (provisioning:connector/http); for componentize-js build with \
             `-d http -d fetch-event`"
                .into(),
        );
    }
    if package.starts_with("wasi:") {
        if !WASI_P2.contains(&path) {
            return Some(format!(
                "the host does not link {path}; connectors get only the WASI 0.2 interfaces \
                 of the CLI world (io, clocks, random, cli, filesystem without preopens, \
                 sockets denied at run time)"
            ));
        }
        return match version {
            Some(v) if is_wasi_0_2(v) => None,
            Some(v) => Some(format!(
                "WASI {v} is not linked; the host links WASI 0.2.x (build for wasm32-wasip2)"
            )),
            None => Some("a WASI import without a version; build for wasm32-wasip2".into()),
        };
    }
    Some(format!(
        "the host provides no `{package}` package; a connector reaches the outside only \
         through the contract's imports ({PACKAGE}/{{http,log}})"
    ))
}

/// `0.2.<patch>` without pre-release or build suffix.
fn is_wasi_0_2(version: &str) -> bool {
    version
        .strip_prefix("0.2.")
        .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
}

fn supported_versions() -> String {
    let versions: Vec<&str> = provisioner_contract::SUPPORTED
        .iter()
        .map(|v| v.semver())
        .collect();
    versions.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(imports: &[&str]) -> Vec<u8> {
        let imports: String = imports
            .iter()
            .map(|name| format!("(import \"{name}\" (instance))"))
            .collect();
        wat::parse_str(format!("(component {imports})")).unwrap()
    }

    #[test]
    fn the_contract_and_the_linked_wasi_set_pass() {
        let bytes = component(&[
            "provisioning:connector/types@0.2.0",
            "provisioning:connector/http@0.2.0",
            "provisioning:connector/log@0.1.0",
            "wasi:io/streams@0.2.0",
            "wasi:cli/environment@0.2.6",
            "wasi:sockets/tcp@0.2.3",
            "wasi:random/insecure-seed@0.2.12",
        ]);
        assert_eq!(check(&bytes), Ok(()));
    }

    #[test]
    fn each_refused_import_is_named_with_its_reason() {
        let bytes = component(&[
            "wasi:io/streams@0.2.0",
            "wasi:http/types@0.2.10",
            "wasi:keyvalue/store@0.2.0",
            "wasi:io/streams@0.3.0",
            "provisioning:connector/http@0.3.0",
            "provisioning:connector/admin@0.2.0",
            "acme:spy/keylogger",
        ]);
        let Err(ImportsError::Refused(refused)) = check(&bytes) else {
            panic!("expected a refusal")
        };
        let names: Vec<&str> = refused.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "wasi:http/types@0.2.10",
                "wasi:keyvalue/store@0.2.0",
                "wasi:io/streams@0.3.0",
                "provisioning:connector/http@0.3.0",
                "provisioning:connector/admin@0.2.0",
                "acme:spy/keylogger",
            ]
        );
        assert!(refused[0].reason.contains("-d http -d fetch-event"));
        assert!(refused[0].reason.contains("provisioning:connector/http"));
        assert!(refused[1]
            .reason
            .contains("does not link wasi:keyvalue/store"));
        assert!(refused[2].reason.contains("WASI 0.3.0 is not linked"));
        assert!(refused[3].reason.contains("0.3.0 is not supported"));
        assert!(refused[4]
            .reason
            .contains("no importable interface `admin`"));
        assert!(refused[5].reason.contains("no `acme:spy` package"));
    }

    #[test]
    fn nested_components_imports_are_not_the_components_own() {
        let bytes = wat::parse_str(
            r#"(component
                (import "wasi:io/poll@0.2.0" (instance))
                (component (import "wasi:http/types@0.2.0" (instance))))"#,
        )
        .unwrap();
        assert_eq!(component_imports(&bytes).unwrap(), ["wasi:io/poll@0.2.0"]);
    }

    #[test]
    fn core_modules_and_garbage_are_left_to_the_compiler_or_named() {
        let module = wat::parse_str("(module)").unwrap();
        assert_eq!(component_imports(&module).unwrap(), Vec::<String>::new());
        assert!(matches!(
            check(b"\0asm garbage"),
            Err(ImportsError::Malformed(_))
        ));
    }
}

#[cfg(test)]
mod load_tests {
    use crate::{LoadError, Runtime, RuntimeConfig};

    #[tokio::test]
    async fn a_wasi_http_component_is_refused_before_anything_is_compiled() {
        let cache = tempfile::tempdir().unwrap();
        let runtime = Runtime::new(RuntimeConfig::new(cache.path())).unwrap();
        let component = wat::parse_str(
            r#"(component
                (import "wasi:io/streams@0.2.0" (instance))
                (import "wasi:http/types@0.2.10" (instance))
                (core module (func (export "f"))))"#,
        )
        .unwrap();
        let error = runtime.load_bytes(component).await.unwrap_err();
        assert!(matches!(error, LoadError::Imports(_)), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains("imports the host does not provide: [wasi:http/types@0.2.10]"),
            "{text}"
        );
        assert!(text.contains("-d http -d fetch-event"), "{text}");
        // Nothing was compiled: compiling leaves an artifact in the cache directory.
        let artifacts = std::fs::read_dir(cache.path())
            .map(|entries| entries.count())
            .unwrap_or(0);
        assert_eq!(artifacts, 0);
    }

    #[test]
    fn real_connectors_import_only_what_the_host_links() {
        for path in [
            test_components::GUEST_ECHO,
            test_components::SALESFORCE_CONNECTOR_V0_1,
        ] {
            let bytes = std::fs::read(path).unwrap();
            let imports = super::component_imports(&bytes).unwrap();
            assert!(
                imports
                    .iter()
                    .any(|i| i.starts_with("provisioning:connector/http@")),
                "{imports:?}"
            );
            assert_eq!(super::check(&bytes), Ok(()), "{path}");
        }
        let salesforce = builtin_connectors::SALESFORCE.bytes;
        assert_eq!(super::check(salesforce), Ok(()));
    }
}
