//! The default configuration check: a configuration against the connector's own schema.
//!
//! [`check`] is what [`crate::Connector::validate`] does unless a connector overrides it:
//! required keys are present, every value has its property's kind, URLs are absolute http(s),
//! choices are among the options and secrets arrive as references. Connectors with rules of
//! their own call it and add their problems.

use crate::config::{check_url, kind_name};
use crate::{ConfigProblem, ConfigProperty, ConfigValue, ConnectorConfig, PropertyKind};

/// The problems of `config` against `properties`; empty when it is usable.
pub fn check(properties: &[ConfigProperty], config: &ConnectorConfig) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for property in properties {
        let value = config
            .entries
            .iter()
            .find(|entry| entry.key == property.key)
            .map(|entry| &entry.value);
        let problem = match value {
            None if property.required => Some(format!(
                "{} is required; set `{}` in the target's configuration",
                property.label, property.key
            )),
            None => None,
            Some(value) => check_value(property, value).err(),
        };
        if let Some(message) = problem {
            problems.push(ConfigProblem {
                key: Some(property.key.clone()),
                message,
            });
        }
    }
    problems
}

/// Why `value` does not fit `property`, if it does not.
fn check_value(property: &ConfigProperty, value: &ConfigValue) -> Result<(), String> {
    if property.secret {
        return match value {
            ConfigValue::Secret(_) => Ok(()),
            other => Err(format!(
                "is a secret but holds {}; store it as a secret",
                kind_name(other)
            )),
        };
    }
    match (property.kind, value) {
        (PropertyKind::Text | PropertyKind::MultilineText, ConfigValue::Text(_)) => Ok(()),
        (PropertyKind::Url, ConfigValue::Text(url)) => check_url(url.trim()),
        (PropertyKind::Choice, ConfigValue::Text(choice)) => {
            if property.options.iter().any(|o| o == choice.trim()) {
                Ok(())
            } else {
                Err(format!(
                    "`{}` is not allowed; use one of: {}",
                    choice.trim(),
                    property.options.join(", ")
                ))
            }
        }
        (PropertyKind::Boolean, ConfigValue::Boolean(_)) => Ok(()),
        (PropertyKind::Boolean, ConfigValue::Text(t))
            if matches!(t.trim().to_ascii_lowercase().as_str(), "true" | "false") =>
        {
            Ok(())
        }
        (PropertyKind::Integer, ConfigValue::Integer(_)) => Ok(()),
        (PropertyKind::Integer, ConfigValue::Text(t)) if t.trim().parse::<i64>().is_ok() => Ok(()),
        (PropertyKind::ClaimMappings, ConfigValue::ClaimMappings(_)) => Ok(()),
        (kind, other) => Err(format!(
            "expected {} but holds {}",
            expected(kind),
            kind_name(other)
        )),
    }
}

fn expected(kind: PropertyKind) -> &'static str {
    match kind {
        PropertyKind::Text | PropertyKind::MultilineText => "text",
        PropertyKind::Boolean => "a boolean (`true` or `false`)",
        PropertyKind::Integer => "an integer",
        PropertyKind::Url => "an absolute http(s) URL",
        PropertyKind::Choice => "one of the options",
        PropertyKind::ClaimMappings => "a table of claim mappings",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigEntry, SecretRef};

    fn schema() -> Vec<ConfigProperty> {
        vec![
            ConfigProperty::url("endpoint").required(),
            ConfigProperty::secret("api-token"),
            ConfigProperty::boolean("dry-run"),
            ConfigProperty::integer("retries"),
            ConfigProperty::choice("mode", &["fast", "safe"]),
            ConfigProperty::claim_mappings("map"),
        ]
    }

    fn config(entries: Vec<(&str, ConfigValue)>) -> ConnectorConfig {
        ConnectorConfig {
            tenant: "t".into(),
            target: "x".into(),
            entries: entries
                .into_iter()
                .map(|(k, value)| ConfigEntry {
                    key: k.into(),
                    value,
                })
                .collect(),
        }
    }

    fn keys(problems: &[ConfigProblem]) -> Vec<&str> {
        problems.iter().filter_map(|p| p.key.as_deref()).collect()
    }

    #[test]
    fn a_complete_configuration_has_no_problems() {
        let c = config(vec![
            (
                "endpoint",
                ConfigValue::Text("https://api.example.com".into()),
            ),
            (
                "api-token",
                ConfigValue::Secret(SecretRef {
                    key: "api-token".into(),
                }),
            ),
            ("dry-run", ConfigValue::Boolean(false)),
            ("retries", ConfigValue::Text("3".into())),
            ("mode", ConfigValue::Text("safe".into())),
            ("map", ConfigValue::ClaimMappings(vec![])),
        ]);
        assert_eq!(check(&schema(), &c), vec![]);
    }

    #[test]
    fn missing_required_keys_are_reported_by_key() {
        let problems = check(&schema(), &config(vec![]));
        assert_eq!(keys(&problems), vec!["endpoint"]);
        assert!(problems[0].message.contains("set `endpoint`"));
    }

    #[test]
    fn wrong_kinds_bad_urls_and_unknown_choices_are_reported() {
        let c = config(vec![
            ("endpoint", ConfigValue::Text("example.com".into())),
            ("api-token", ConfigValue::Text("plain".into())),
            ("dry-run", ConfigValue::Text("maybe".into())),
            ("retries", ConfigValue::Boolean(true)),
            ("mode", ConfigValue::Text("slow".into())),
            ("map", ConfigValue::Text("x".into())),
        ]);
        let problems = check(&schema(), &c);
        assert_eq!(
            keys(&problems),
            vec!["endpoint", "api-token", "dry-run", "retries", "mode", "map"]
        );
        assert!(problems[0].message.contains("not an absolute http(s) URL"));
        assert!(problems[1].message.contains("store it as a secret"));
        assert!(problems[4].message.contains("use one of: fast, safe"));
    }
}
