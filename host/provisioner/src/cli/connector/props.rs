//! Connector properties given on the command line as a JSON file (`--config props.json`): one
//! object, property key to value. Secret properties (by the connector's schema) are plain
//! strings here and become secrets of the target; the rest are text, booleans, integers or
//! claim mapping lists, as in a configuration file.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use provisioner_contract::ConnectorMetadata;
use provisioner_runtime::{ConfigInput, EgressPolicy, SecretValue, TargetConfig};

/// Property values read from a file, not yet split into secrets and plain values.
pub type Props = BTreeMap<String, serde_json::Value>;

/// Reads a JSON object of properties.
pub fn read(path: &Path) -> anyhow::Result<Props> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the properties file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a JSON object of property values (e.g. {{\"endpoint\": \"https://...\"}})",
            path.display()
        )
    })
}

/// Builds a target configuration for `metadata` from `props`.
pub fn target_config(
    metadata: &ConnectorMetadata,
    props: &Props,
    egress: EgressPolicy,
) -> anyhow::Result<TargetConfig> {
    let mut config = TargetConfig::new("check", "check");
    config.egress = egress;
    for (key, value) in props {
        let secret = metadata
            .properties
            .iter()
            .any(|p| &p.key == key && p.secret);
        if secret {
            let Some(text) = value.as_str() else {
                bail!("property `{key}` is a secret: give its value as a JSON string");
            };
            config
                .secrets
                .insert(key.clone(), SecretValue::new(text.to_string()));
        } else {
            let input: ConfigInput = serde_json::from_value(value.clone()).with_context(|| {
                format!(
                    "property `{key}`: expected a string, a boolean, an integer or claim mappings"
                )
            })?;
            config.values.insert(key.clone(), input);
        }
    }
    Ok(config)
}
