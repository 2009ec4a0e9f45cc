//! Lints of a connector's metadata and configuration schema, for `connector check`.

use std::collections::BTreeSet;

use provisioner_contract::{ConnectorMetadata, PropertyKind};

/// How serious a lint is: errors fail the check, warnings are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails the check.
    Error,
    /// Reported only.
    Warning,
}

/// One finding about the metadata or the schema.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Lint {
    /// How serious it is.
    pub level: Level,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Whether `id` is a lower-case kebab identifier (`[a-z][a-z0-9-]*`).
pub fn is_kebab_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Every lint of `metadata`, errors first.
pub fn lint(metadata: &ConnectorMetadata) -> Vec<Lint> {
    let mut lints = Vec::new();
    let mut error = |message: String| {
        lints.push(Lint {
            level: Level::Error,
            message,
        })
    };
    if !is_kebab_id(&metadata.id) {
        error(format!(
            "metadata id {:?} must be lower-case kebab case ([a-z][a-z0-9-]*): operators type it",
            metadata.id
        ));
    }
    if metadata.name.trim().is_empty() {
        error("metadata name is empty: give the display name of the target".into());
    }
    if !is_semver(&metadata.version) {
        error(format!(
            "metadata version {:?} is not a semantic version (major.minor.patch)",
            metadata.version
        ));
    }
    if metadata.description.trim().is_empty() {
        error("metadata description is empty: say what the connector provisions into".into());
    }
    if metadata.entity_kinds.is_empty() {
        error("entity-kinds is empty: declare user and/or group".into());
    }
    let kinds: BTreeSet<String> = metadata
        .entity_kinds
        .iter()
        .map(|k| format!("{k:?}"))
        .collect();
    if kinds.len() != metadata.entity_kinds.len() {
        error("entity-kinds lists a kind twice".into());
    }
    if metadata.max_batch_size == 0 {
        error("max-batch-size is 0: declare at least 1 (one change per call)".into());
    }
    let mut keys = BTreeSet::new();
    let mut warnings = Vec::new();
    for p in &metadata.properties {
        let key = &p.key;
        if !keys.insert(key.as_str()) {
            error(format!("property `{key}` is declared twice"));
        }
        if !is_kebab_id(key) {
            warnings.push(format!(
                "property key {key:?} is not lower-case kebab case ([a-z][a-z0-9-]*), which \
                 operators expect"
            ));
        }
        if p.label.trim().is_empty() {
            error(format!("property `{key}` has no label"));
        }
        if p.description.trim().is_empty() {
            error(format!(
                "property `{key}` has no description: say what it does and how to fill it"
            ));
        }
        if p.secret && !matches!(p.kind, PropertyKind::Text | PropertyKind::MultilineText) {
            error(format!(
                "property `{key}` is secret but of kind {:?}: secrets are text or multiline text",
                p.kind
            ));
        }
        if p.secret && p.default_value.is_some() {
            error(format!(
                "property `{key}` is secret and has a default: a default is public, remove it"
            ));
        }
        match (p.kind, &p.default_value) {
            (PropertyKind::Choice, default) => {
                if p.options.is_empty() {
                    error(format!("choice property `{key}` has no options"));
                }
                if let Some(d) = default.as_ref().filter(|d| !p.options.contains(d)) {
                    error(format!(
                        "choice property `{key}` defaults to {d:?}, not one of its options [{}]",
                        p.options.join(", ")
                    ));
                }
            }
            (PropertyKind::Boolean, Some(d)) if d != "true" && d != "false" => error(format!(
                "boolean property `{key}` defaults to {d:?}, not true or false"
            )),
            (PropertyKind::Integer, Some(d)) if d.parse::<i64>().is_err() => error(format!(
                "integer property `{key}` defaults to {d:?}, not an integer"
            )),
            (PropertyKind::Url, Some(d)) => warnings.push(format!(
                "url property `{key}` defaults to {d:?}: the default never opens egress, so \
                 operators must set it explicitly (say so in its description)"
            )),
            _ => {}
        }
        if p.kind != PropertyKind::Choice && !p.options.is_empty() {
            error(format!(
                "property `{key}` lists options but is not a choice property"
            ));
        }
        if p.required && p.default_value.is_some() {
            warnings.push(format!(
                "property `{key}` is required and has a default: one of the two is redundant"
            ));
        }
    }
    if !metadata
        .properties
        .iter()
        .any(|p| p.kind == PropertyKind::Url)
    {
        warnings.push(
            "no url property: the connector can reach nothing (egress comes only from url \
             properties)"
                .into(),
        );
    }
    lints.extend(warnings.into_iter().map(|message| Lint {
        level: Level::Warning,
        message,
    }));
    lints
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisioner_contract::{ConfigProperty, EntityKind};

    fn property(key: &str, kind: PropertyKind) -> ConfigProperty {
        ConfigProperty {
            key: key.into(),
            label: key.into(),
            description: format!("The {key}."),
            kind,
            required: false,
            secret: false,
            default_value: None,
            options: vec![],
        }
    }

    fn metadata(properties: Vec<ConfigProperty>) -> ConnectorMetadata {
        ConnectorMetadata {
            id: "acme".into(),
            name: "Acme".into(),
            version: "0.1.0".into(),
            description: "Provisions users into Acme.".into(),
            entity_kinds: vec![EntityKind::User],
            properties,
            max_batch_size: 1,
        }
    }

    #[test]
    fn a_clean_schema_has_no_lints() {
        let mut token = property("api-token", PropertyKind::Text);
        token.secret = true;
        let lints = lint(&metadata(vec![
            property("endpoint", PropertyKind::Url),
            token,
        ]));
        assert_eq!(lints, vec![]);
    }

    #[test]
    fn each_schema_mistake_is_named() {
        let mut secret_default = property("api-token", PropertyKind::Text);
        secret_default.secret = true;
        secret_default.default_value = Some("hunter2".into());
        let mut bad_choice = property("mode", PropertyKind::Choice);
        bad_choice.options = vec!["a".into(), "b".into()];
        bad_choice.default_value = Some("c".into());
        let mut url_default = property("endpoint", PropertyKind::Url);
        url_default.default_value = Some("https://api.acme.test".into());
        let mut bad = metadata(vec![
            secret_default,
            bad_choice,
            url_default,
            property("Bad_Key", PropertyKind::Text),
        ]);
        bad.id = "Acme Corp".into();
        bad.max_batch_size = 0;
        let lints = lint(&bad);
        let errors: Vec<&str> = lints
            .iter()
            .filter(|l| l.level == Level::Error)
            .map(|l| l.message.as_str())
            .collect();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].contains("metadata id \"Acme Corp\""));
        assert!(errors[1].contains("max-batch-size is 0"));
        assert!(errors[2].contains("`api-token` is secret and has a default"));
        assert!(errors[3].contains("defaults to \"c\", not one of its options [a, b]"));
        let warnings: Vec<&str> = lints
            .iter()
            .filter(|l| l.level == Level::Warning)
            .map(|l| l.message.as_str())
            .collect();
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(warnings[0].contains("the default never opens egress"));
        assert!(warnings[1].contains("\"Bad_Key\" is not lower-case kebab case"));
    }
}
