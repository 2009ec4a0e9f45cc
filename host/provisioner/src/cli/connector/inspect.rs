//! `provisioner connector inspect`: a connector's metadata, schema and egress.

use anyhow::anyhow;
use provisioner_contract::{EntityKind, PropertyKind};
use provisioner_runtime::{Connector, Runtime, RuntimeConfig};

/// Prints a connector's metadata and configuration schema, as a table or JSON.
pub async fn run(connector: &str, json: bool) -> anyhow::Result<()> {
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let connector = provisioner_server::load_connector(&runtime, connector)
        .await
        .map_err(|error| anyhow!("cannot load the connector: {error}"))?;
    let metadata = connector.metadata();
    if json {
        println!("{}", serde_json::to_string_pretty(metadata)?);
    } else {
        print!("{}", render(&connector));
    }
    Ok(())
}

/// Renders metadata and schema as text.
fn render(connector: &Connector) -> String {
    let metadata = connector.metadata();
    let digest = connector.digest();
    let mut out = String::new();
    out += &format!("{} ({}) {}\n", metadata.name, metadata.id, metadata.version);
    out += &format!("  contract: {}\n", connector.contract_version());
    out += &format!("  {}\n", metadata.description);
    let kinds: Vec<&str> = metadata
        .entity_kinds
        .iter()
        .map(|kind| match kind {
            EntityKind::User => "users",
            EntityKind::Group => "groups",
        })
        .collect();
    out += &format!("  provisions: {}\n", kinds.join(", "));
    out += &format!("  sha256:   {digest}\n\nConfiguration:\n");
    for property in &metadata.properties {
        let mut flags = vec![kind_name(property.kind).to_string()];
        if property.required {
            flags.push("required".into());
        }
        if property.secret {
            flags.push("secret".into());
        }
        if let Some(default) = &property.default_value {
            flags.push(format!("default {default:?}"));
        }
        if !property.options.is_empty() {
            flags.push(format!("one of {}", property.options.join(" | ")));
        }
        out += &format!(
            "  {} - {} [{}]\n",
            property.key,
            property.label,
            flags.join(", ")
        );
        out += &format!("      {}\n", property.description);
    }
    let urls: Vec<String> = metadata
        .properties
        .iter()
        .filter(|p| p.kind == PropertyKind::Url)
        .map(|p| match &p.default_value {
            Some(default) => format!("{} (its default {default} only if set explicitly)", p.key),
            None => p.key.clone(),
        })
        .collect();
    out += "\nEgress:\n";
    if urls.is_empty() {
        out += "  none: the connector declares no url property, so it can reach nothing\n";
    } else {
        out += &format!(
            "  a target reaches only the origins of the url properties its operator sets: {}\n",
            urls.join(", ")
        );
        out += "  secrets go only to those origins, in `authorization` unless the target's\n  \
                secret policy declares other headers (`provisioner target egress --config <file>`\n  \
                shows a configured target's)\n";
    }
    out
}

fn kind_name(kind: PropertyKind) -> &'static str {
    match kind {
        PropertyKind::Text => "text",
        PropertyKind::MultilineText => "multiline text",
        PropertyKind::Boolean => "boolean",
        PropertyKind::Integer => "integer",
        PropertyKind::Url => "url",
        PropertyKind::Choice => "choice",
        PropertyKind::ClaimMappings => "claim mappings",
    }
}
