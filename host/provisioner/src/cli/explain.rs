//! `provisioner explain`: for one user and one target, the scope decision, every mapped field
//! with the claim or default that produces it, and the exact requests the connector would send,
//! from a dry run that sends nothing (offline: reads the server's database directly).

use anyhow::Context;
use clap::Args;
use provisioner_engine::mapping::{FieldProvenance, FieldSource};
use provisioner_runtime::EgressPolicy;
use provisioner_server::explain::{self, Explanation};
use provisioner_server::Registry;

use super::target::ServerStoreArgs;

/// Arguments of `provisioner explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    store: ServerStoreArgs,
    /// Tenant of the user and the target.
    #[arg(long)]
    tenant: String,
    /// The target.
    #[arg(long)]
    target: String,
    /// The user: its local id or its user name.
    #[arg(long)]
    user: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `provisioner explain`.
pub async fn run(args: ExplainArgs) -> anyhow::Result<()> {
    let engine = args.store.engine().await?;
    let registry = Registry::with_runtime(args.store.runtime()?, EgressPolicy::default())
        .with_store(engine.store().clone());
    let explanation = explain::explain(&engine, &registry, &args.tenant, &args.target, &args.user)
        .await
        .with_context(|| {
            format!(
                "explaining user `{}` for target `{}`",
                args.user, args.target
            )
        })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        print!("{}", render(&explanation));
    }
    Ok(())
}

/// The explanation as text: the scope lines, a table of the fields with their source, then
/// the requests and the notes.
pub fn render(e: &Explanation) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let scope = if e.in_scope {
        "in scope"
    } else {
        "NOT in scope"
    };
    line(format!(
        "user {} (id {}), target {}: {scope}",
        e.user_name, e.user_id, e.target
    ));
    let roles = &e.scope.roles;
    line(format!(
        "  roles:  {} (required {}, held {}{})",
        verdict(roles.matched),
        list_or(&roles.required, "none: every user"),
        list_or(&roles.held, "none"),
        if roles.via_groups.is_empty() {
            String::new()
        } else {
            format!(", through groups {}", roles.via_groups.join(", "))
        }
    ));
    let filter = match &e.scope.filter.expression {
        Some(expression) => serde_json::to_string(expression).unwrap_or_default(),
        None => "none".to_owned(),
    };
    line(format!(
        "  filter: {} ({filter})",
        verdict(e.scope.filter.matched)
    ));
    line(format!(
        "operation: {}{}",
        e.operation.as_deref().unwrap_or("none"),
        e.remote_id
            .as_ref()
            .map(|id| format!(" (remote id {id})"))
            .unwrap_or_else(|| " (no remote id)".to_owned())
    ));
    line(String::new());
    line(format!("{:<36} {:<28} SOURCE", "FIELD", "VALUE"));
    for field in &e.fields {
        let mapped = &field.mapped;
        let value = mapped.value.as_deref().or(field.sent.as_deref());
        line(format!(
            "{:<36} {:<28} {}",
            mapped.field,
            value.unwrap_or("-"),
            source(mapped)
        ));
        if let Some(connector) = field
            .connector
            .as_ref()
            .filter(|_| mapped.source != FieldSource::Connector)
        {
            line(format!("{:<36} ! {connector}", ""));
        }
    }
    line(String::new());
    if e.requests.is_empty() {
        line("requests: none".to_owned());
    } else {
        line("requests (dry run, nothing was sent):".to_owned());
    }
    for request in &e.requests {
        line(format!(
            "  -> {} {}   ({})",
            request.method, request.url, request.kind
        ));
        for (name, value) in &request.headers {
            line(format!("     {name}: {value}"));
        }
        match &request.body {
            serde_json::Value::Null => {}
            serde_json::Value::String(text) => line(format!("     {text}")),
            json => {
                let pretty = serde_json::to_string_pretty(json).unwrap_or_default();
                for body_line in pretty.lines() {
                    line(format!("     {body_line}"));
                }
            }
        }
    }
    if let Some(outcome) = &e.dry_run_outcome {
        line(format!("connector's answer to the dry run: {outcome}"));
    }
    for note in &e.notes {
        line(format!("note: {note}"));
    }
    out
}

fn verdict(matched: bool) -> &'static str {
    if matched {
        "matched"
    } else {
        "NOT matched"
    }
}

fn list_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.join(", ")
    }
}

/// Where a field's value came from, in words.
fn source(field: &FieldProvenance) -> String {
    let claim = field.claim.as_deref().unwrap_or("-");
    match field.source {
        FieldSource::Claim => format!("claim {claim}"),
        FieldSource::Default => format!("default (claim {claim} has no value)"),
        FieldSource::Constant => "constant".to_owned(),
        FieldSource::Unset => format!("no value (claim {claim} has no value, no default)"),
        FieldSource::Connector => "set by the connector (no mapping names it)".to_owned(),
    }
}
