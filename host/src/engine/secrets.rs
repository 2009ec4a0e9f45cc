//! Resolution of a target's secret references (`env:VAR`, `file:/path`) at load time.
//!
//! The database holds only references; values are read when the target's connector is built
//! and are handed to the host's secret capability, never to the connector.

use std::collections::BTreeMap;

/// Resolves every reference of a target; the error names the key and the reference at fault
/// (never a value).
pub fn resolve_all(refs: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, String> {
    refs.iter()
        .map(|(key, reference)| Ok((key.clone(), resolve(key, reference)?)))
        .collect()
}

/// Resolves one secret reference.
pub fn resolve(key: &str, reference: &str) -> Result<String, String> {
    if let Some(var) = reference.strip_prefix("env:") {
        std::env::var(var).map_err(|_| {
            format!("secret `{key}`: environment variable `{var}` is not set (or not UTF-8)")
        })
    } else if let Some(path) = reference.strip_prefix("file:") {
        std::fs::read_to_string(path)
            .map(|value| value.trim_end_matches(['\n', '\r']).to_owned())
            .map_err(|error| format!("secret `{key}`: cannot read `{path}`: {error}"))
    } else {
        Err(format!(
            "secret `{key}`: `{reference}` is not a reference; use `env:VAR` or `file:/path`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_files_and_rejects_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        let reference = format!("file:{}", path.display());
        assert_eq!(resolve("k", &reference).unwrap(), "s3cret");
        assert!(resolve("k", "s3cret")
            .unwrap_err()
            .contains("not a reference"));
        let missing = resolve("k", "env:PROVISIONER_TEST_SURELY_UNSET").unwrap_err();
        assert!(
            missing.contains("PROVISIONER_TEST_SURELY_UNSET"),
            "{missing}"
        );
        assert!(!missing.contains("s3cret"));
    }
}
