//! Which contract version a component targets, and the range this host supports.

use std::fmt;

/// The WIT package every connector exports from.
pub const PACKAGE: &str = "provisioning:connector";

/// The contract versions this host loads, oldest first: the one place the range is stated.
pub const SUPPORTED: &[ContractVersion] = &[ContractVersion::V0_1, ContractVersion::V0_2];

/// A supported contract version (a minor version: while the major is 0, each minor is breaking;
/// patch releases only document or add imports, so any `0.2.x` component is a `V0_2` one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum ContractVersion {
    /// `provisioning:connector@0.1.x`.
    V0_1,
    /// `provisioning:connector@0.2.x`.
    V0_2,
}

/// Why a component's contract version cannot be served.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The component exports the provisioning interface of a version outside the range.
    #[error(
        "component targets {PACKAGE}@{found}; this host supports {} to {}",
        SUPPORTED[0].semver(),
        SUPPORTED[SUPPORTED.len() - 1].semver()
    )]
    Unsupported {
        /// The version the component declares.
        found: String,
    },
    /// The component does not export the provisioning interface at all.
    #[error(
        "component exports no `{PACKAGE}/provisioning` interface, so it is not a provisioning \
         connector (it exports: [{}]); build it against the contract in wit/",
        exports.join(", ")
    )]
    NotAConnector {
        /// What it exports instead.
        exports: Vec<String>,
    },
}

impl ContractVersion {
    /// The version as released, e.g. `0.2.0`.
    pub fn semver(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => "0.1.0",
            ContractVersion::V0_2 => "0.2.0",
        }
    }

    /// The version of a `major.minor.patch` string, when this host supports it.
    pub fn parse(version: &str) -> Option<ContractVersion> {
        let mut parts = version.split('.');
        let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || patch.parse::<u64>().is_err() {
            return None;
        }
        match (major, minor) {
            ("0", "1") => Some(ContractVersion::V0_1),
            ("0", "2") => Some(ContractVersion::V0_2),
            _ => None,
        }
    }

    /// Reads the version from a component's export names (e.g.
    /// `provisioning:connector/provisioning@0.2.0`), before anything is instantiated.
    pub fn of_component<'a>(
        exports: impl IntoIterator<Item = &'a str>,
    ) -> Result<ContractVersion, VersionError> {
        let prefix = format!("{PACKAGE}/provisioning@");
        let exports: Vec<&str> = exports.into_iter().collect();
        let declared = exports.iter().find_map(|name| name.strip_prefix(&prefix));
        match declared {
            Some(found) => Self::parse(found).ok_or_else(|| VersionError::Unsupported {
                found: found.to_string(),
            }),
            None => Err(VersionError::NotAConnector {
                exports: exports.iter().map(|name| name.to_string()).collect(),
            }),
        }
    }
}

impl fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PACKAGE}@{}", self.semver())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_from_export_names() {
        let v = |names: &[&str]| ContractVersion::of_component(names.iter().copied());
        assert_eq!(
            v(&["provisioning:connector/provisioning@0.1.0"]),
            Ok(ContractVersion::V0_1)
        );
        assert_eq!(
            v(&["provisioning:connector/provisioning@0.2.3"]),
            Ok(ContractVersion::V0_2)
        );
        let error = v(&["provisioning:connector/provisioning@0.3.0"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "component targets provisioning:connector@0.3.0; this host supports 0.1.0 to 0.2.0"
        );
        assert!(matches!(
            v(&["provisioning:connector/provisioning@1.0.0-rc1"]),
            Err(VersionError::Unsupported { .. })
        ));
        let error = v(&["wasi:http/incoming-handler@0.2.0"]).unwrap_err();
        assert!(
            error.to_string().contains("not a provisioning connector"),
            "{error}"
        );
    }
}
