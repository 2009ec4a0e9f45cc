//! `provisioner connector check`: the conformance kit.
//!
//! Loads the component (its imports are checked before compiling), lints its metadata and
//! configuration schema, runs `validate` with a filled configuration and with an empty one, then
//! runs create, update, delete and lookup against the [scripted mock target](super::mock_target)
//! in every scenario and asserts the typed error of the shared HTTP-status mapping. Operations
//! the connector answers `unsupported` are skipped. Reports per-call guest time, peak memory and
//! the component size.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use provisioner_contract::{
    Change, Claim, ConnectorConfig, ConnectorMetadata, Entity, EntityKind, Group, LookupKey,
    Operation, PropertyKind, ProvisionError, User, ACCOUNT_DISABLED_CLAIM,
};
use provisioner_runtime::{CallError, EgressPolicy, Runtime, RuntimeConfig, TargetInstance};

use super::lint::{self, Level, Lint};
use super::mock_target::{MockTarget, Scenario, EXISTING_ID, REMOTE_ID, RETRY_AFTER_SECONDS};
use super::props::{self, Props};

/// The request deadline during a check: short, so the stall scenario ends quickly.
const REQUEST_DEADLINE: Duration = Duration::from_secs(2);
/// The dummy value of every secret property.
const DUMMY_SECRET: &str = "check-dummy-secret-0123456789";

/// Options of `connector check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The connector: a component file (`.wasm`) or `builtin:<name>`.
    connector: String,
    /// A JSON object of property values that override the generated configuration (url
    /// properties point at the mock target, secrets get dummy values by default).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Directory for compiled components.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// The operations a check exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Create,
    Update,
    Delete,
    Lookup,
}

impl Op {
    const ALL: [Op; 4] = [Op::Create, Op::Update, Op::Delete, Op::Lookup];

    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Lookup => "lookup",
        }
    }

    fn is_write(self) -> bool {
        self != Op::Lookup
    }
}

/// What a call came back with.
enum Got {
    Done,
    Found(bool),
    Failed(CallError),
}

/// One call of the check.
#[derive(Debug, serde::Serialize)]
struct CallReport {
    kind: &'static str,
    operation: Op,
    scenario: Scenario,
    verdict: &'static str,
    got: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    guest_ms: f64,
    peak_memory_bytes: u64,
}

/// The whole report.
#[derive(Debug, Default, serde::Serialize)]
struct Report {
    connector: String,
    version: String,
    contract: String,
    component_bytes: u64,
    load_ms: f64,
    lints: Vec<Lint>,
    calls: Vec<CallReport>,
    skipped: Vec<String>,
    failures: Vec<String>,
    max_guest_ms: f64,
    median_guest_ms: f64,
    peak_memory_bytes: u64,
}

/// Runs the check; fails (non-zero exit) naming each failure.
pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let report = check(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    if !report.failures.is_empty() {
        bail!(
            "{} failed {} check(s):\n  {}",
            report.connector,
            report.failures.len(),
            report.failures.join("\n  ")
        );
    }
    Ok(())
}

fn component_bytes(reference: &str) -> anyhow::Result<Vec<u8>> {
    if reference.starts_with(builtin_connectors::PREFIX) {
        let builtin = builtin_connectors::lookup(reference).with_context(|| {
            format!(
                "no such built-in connector {reference}; built in: {}",
                builtin_connectors::references().join(", ")
            )
        })?;
        Ok(builtin.bytes.to_vec())
    } else {
        std::fs::read(reference).with_context(|| format!("cannot read component {reference}"))
    }
}

async fn check(args: &CheckArgs) -> anyhow::Result<Report> {
    let mut config = RuntimeConfig::default();
    if let Some(dir) = &args.cache_dir {
        config.cache_dir = dir.clone();
    }
    config.http.request_timeout = REQUEST_DEADLINE;
    config.outer_timeout = Duration::from_secs(30);
    let runtime = Runtime::new(config)?;
    let bytes = component_bytes(&args.connector)?;
    let mut report = Report {
        component_bytes: bytes.len() as u64,
        ..Report::default()
    };
    let (connector, load) = runtime
        .load_bytes(bytes)
        .await
        .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", args.connector))?;
    let metadata = connector.metadata().clone();
    report.connector = metadata.id.clone();
    report.version = metadata.version.clone();
    report.contract = connector.contract_version().to_string();
    report.load_ms = millis(load.elapsed);
    report.lints = lint::lint(&metadata);
    for l in report.lints.iter().filter(|l| l.level == Level::Error) {
        report.failures.push(format!("metadata: {}", l.message));
    }

    let mock = MockTarget::start(REQUEST_DEADLINE * 3).await?;
    let mut values = filled_props(&metadata, mock.base_url());
    if let Some(path) = &args.config {
        values.extend(props::read(path)?);
    }
    let target_config = props::target_config(&metadata, &values, EgressPolicy::loopback())?;
    let target = match TargetInstance::new(&runtime, connector, target_config) {
        Ok(target) => target,
        Err(e) => {
            report.failures.push(format!(
                "the generated configuration is refused ({e}); give the missing values with \
                 --config props.json"
            ));
            return Ok(report);
        }
    };
    if !check_validate(&target, &metadata, &mut report).await {
        report.skipped.push(
            "every operation: the configuration does not validate, so calls against the mock \
             would test nothing (give working values with --config props.json)"
                .into(),
        );
        return Ok(report);
    }
    for kind in &metadata.entity_kinds {
        for op in Op::ALL {
            check_operation(&target, &mock, *kind, op, &mut report).await;
        }
    }
    summarize(&mut report);
    Ok(report)
}

/// A configuration that should validate: url properties at the mock (a token endpoint at its
/// token path), secrets dummy, required values from their defaults or a placeholder.
fn filled_props(metadata: &ConnectorMetadata, mock: &str) -> Props {
    let mut props = Props::new();
    for p in &metadata.properties {
        let value = if p.secret {
            serde_json::json!(DUMMY_SECRET)
        } else if p.kind == PropertyKind::Url && p.key.contains("token") {
            // An OAuth token endpoint: the mock answers tokens on paths naming `token`.
            serde_json::json!(format!("{mock}/oauth2/token"))
        } else if p.kind == PropertyKind::Url {
            serde_json::json!(mock)
        } else if !p.required {
            continue;
        } else if let Some(default) = &p.default_value {
            serde_json::json!(default)
        } else {
            match p.kind {
                PropertyKind::Boolean => serde_json::json!(false),
                PropertyKind::Integer => serde_json::json!(1),
                PropertyKind::Choice => serde_json::json!(p.options.first().cloned()),
                PropertyKind::ClaimMappings => serde_json::json!([]),
                _ => serde_json::json!("check-placeholder"),
            }
        };
        props.insert(p.key.clone(), value);
    }
    props
}

/// Runs `validate` on the filled and on an empty configuration; true when the filled one is
/// valid.
async fn check_validate(
    target: &TargetInstance,
    metadata: &ConnectorMetadata,
    report: &mut Report,
) -> bool {
    let valid = match target.validate().await {
        Ok(problems) if problems.is_empty() => true,
        Ok(problems) => {
            let list: Vec<String> = problems
                .iter()
                .map(|p| format!("{}: {}", p.key.as_deref().unwrap_or("-"), p.message))
                .collect();
            report.failures.push(format!(
                "validate refused the filled configuration: {} (give working values with \
                 --config props.json)",
                list.join("; ")
            ));
            false
        }
        Err(e) => {
            report
                .failures
                .push(format!("validate failed on the filled configuration: {e}"));
            false
        }
    };
    let empty = ConnectorConfig {
        tenant: "check".into(),
        target: "check".into(),
        entries: vec![],
    };
    let required: Vec<&str> = metadata
        .properties
        .iter()
        .filter(|p| p.required)
        .map(|p| p.key.as_str())
        .collect();
    match target.validate_config(empty).await {
        Ok(problems) if problems.is_empty() && !required.is_empty() => {
            report.failures.push(format!(
                "validate accepted an empty configuration, though [{}] are required: report \
                 each missing property as a problem",
                required.join(", ")
            ))
        }
        Ok(_) => {}
        Err(e) => report.failures.push(format!(
            "validate failed on an empty configuration (it must report problems, never trap): {e}"
        )),
    }
    valid
}

fn user(remote_id: Option<&str>, op: Operation) -> Entity {
    let claim = |uri: &str, value: &str| Claim {
        uri: uri.into(),
        values: vec![value.into()],
    };
    let claims = if op == Operation::Delete {
        vec![]
    } else {
        vec![
            claim("http://wso2.org/claims/username", "check.user@example.com"),
            claim("http://wso2.org/claims/givenname", "Check"),
            claim("http://wso2.org/claims/lastname", "User"),
            claim(
                "http://wso2.org/claims/emailaddress",
                "check.user@example.com",
            ),
            claim(ACCOUNT_DISABLED_CLAIM, "false"),
        ]
    };
    Entity::User(User {
        local_id: "check-local-1".into(),
        name: "check.user@example.com".into(),
        remote_id: remote_id.map(str::to_string),
        changed_claims: if op == Operation::Update {
            vec!["http://wso2.org/claims/givenname".into()]
        } else {
            vec![]
        },
        claims,
        previous_name: None,
    })
}

fn group(remote_id: Option<&str>) -> Entity {
    Entity::Group(Group {
        local_id: "check-group-1".into(),
        name: "Check Group".into(),
        remote_id: remote_id.map(str::to_string),
        members: vec![],
        added_members: vec![],
        removed_members: vec![],
        previous_name: None,
    })
}

async fn call(target: &TargetInstance, kind: EntityKind, op: Op) -> Got {
    let remote = (op != Op::Create).then_some(REMOTE_ID);
    let operation = match op {
        Op::Create => Operation::Create,
        Op::Update | Op::Lookup => Operation::Update,
        Op::Delete => Operation::Delete,
    };
    let entity = match kind {
        EntityKind::User => user(remote, operation),
        EntityKind::Group => group(remote),
    };
    if op == Op::Lookup {
        return match target.lookup(&LookupKey::Entity(entity)).await {
            Ok(found) => Got::Found(found.is_some()),
            Err(e) => Got::Failed(e),
        };
    }
    match target.provision(&Change { operation, entity }).await {
        Ok(_) => Got::Done,
        Err(e) => Got::Failed(e),
    }
}

/// The case name of a typed error, as the contract spells it.
fn case(error: &ProvisionError) -> String {
    match error {
        ProvisionError::Transient(t) if t.outcome_unknown => "transient (outcome unknown)".into(),
        ProvisionError::Transient(_) => "transient".into(),
        ProvisionError::RateLimited(r) => match r.retry_after_ms {
            Some(ms) => format!("rate-limited ({ms} ms)"),
            None => "rate-limited (no retry-after)".into(),
        },
        ProvisionError::QuotaExhausted(_) => "quota-exhausted".into(),
        ProvisionError::AuthFailed(_) => "auth-failed".into(),
        ProvisionError::Conflict(c) => match &c.existing_remote_id {
            Some(id) => format!("conflict (existing {id})"),
            None => "conflict".into(),
        },
        ProvisionError::InvalidData(_) => "invalid-data".into(),
        ProvisionError::NotFound(_) => "not-found".into(),
        ProvisionError::Unsupported(_) => "unsupported".into(),
        ProvisionError::Permanent(_) => "permanent".into(),
    }
}

fn describe(got: &Got) -> String {
    match got {
        Got::Done => "success".into(),
        Got::Found(true) => "found".into(),
        Got::Found(false) => "none".into(),
        Got::Failed(CallError::Connector(e)) => case(e),
        Got::Failed(CallError::Trap { message }) => format!("trap: {message}"),
        Got::Failed(e) => format!("sandbox failure: {e}"),
    }
}

/// What the connector said with an error, bounded, for a failure line.
fn said(got: &Got) -> String {
    let Got::Failed(CallError::Connector(error)) = got else {
        return String::new();
    };
    let detail = error.detail();
    let message: String = detail.message.chars().take(160).collect();
    format!("; it said: {message}")
}

/// What the shared mapping expects, and why; `None` when `got` is acceptable.
fn judge(op: Op, scenario: Scenario, got: &Got) -> Option<(&'static str, &'static str)> {
    use ProvisionError as E;
    let error = match got {
        Got::Failed(CallError::Connector(e)) => Some(e),
        _ => None,
    };
    let ok = matches!(got, Got::Done | Got::Found(_));
    let (pass, expected, why) = match scenario {
        Scenario::Success => (
            ok,
            "success",
            "the target accepted the request with a 2xx answer",
        ),
        Scenario::UnauthorizedOnce => (
            ok || matches!(error, Some(E::AuthFailed(_))),
            "success or auth-failed",
            "a 401 is retried once with a fresh token, or reported as auth-failed so the host \
             pauses the target",
        ),
        Scenario::NotFound => match op {
            Op::Create => (
                matches!(
                    error,
                    Some(E::NotFound(_) | E::InvalidData(_) | E::Permanent(_))
                ),
                "not-found",
                "the target said the endpoint or entity does not exist; retrying cannot help",
            ),
            Op::Update => (
                matches!(error, Some(E::NotFound(_))),
                "not-found",
                "the target said the entity does not exist; retrying cannot help",
            ),
            Op::Delete => (
                ok || matches!(error, Some(E::NotFound(_))),
                "success or not-found",
                "the entity is already gone, which is what a delete wants",
            ),
            Op::Lookup => (
                matches!(got, Got::Found(false)) || matches!(error, Some(E::NotFound(_))),
                "none or not-found",
                "the target has no such entity",
            ),
        },
        Scenario::Conflict => match op {
            Op::Create => (
                matches!(error, Some(E::Conflict(_))),
                "conflict",
                "the target said the entity already exists; the host links it instead of retrying",
            ),
            _ => (
                matches!(
                    error,
                    Some(E::Conflict(_) | E::InvalidData(_) | E::Permanent(_))
                ),
                "conflict",
                "a 409 is a refusal that retrying cannot fix",
            ),
        },
        Scenario::RateLimited => (
            matches!(error, Some(E::RateLimited(r)) if r.retry_after_ms == Some(RETRY_AFTER_SECONDS * 1000)),
            "rate-limited (7000 ms)",
            "the target asked to wait 7 s (Retry-After: 7); the host waits that long",
        ),
        Scenario::ServerError | Scenario::Reset | Scenario::Stall if op.is_write() => (
            matches!(error, Some(E::Transient(t)) if t.outcome_unknown),
            "transient (outcome unknown)",
            "the write may have been applied; the host looks it up before retrying",
        ),
        Scenario::ServerError | Scenario::Reset | Scenario::Stall => (
            matches!(error, Some(E::Transient(_))),
            "transient",
            "the target failed for now; a retry may succeed",
        ),
    };
    (!pass).then_some((expected, why))
}

async fn check_operation(
    target: &TargetInstance,
    mock: &MockTarget,
    kind: EntityKind,
    op: Op,
    report: &mut Report,
) {
    let kind_name = match kind {
        EntityKind::User => "user",
        EntityKind::Group => "group",
    };
    // Only name the kind when the connector provisions more than users.
    let label = if kind == EntityKind::User {
        op.name().to_string()
    } else {
        format!("{kind_name} {}", op.name())
    };
    for scenario in Scenario::ALL {
        mock.set(scenario);
        let got = call(target, kind, op).await;
        if let Got::Failed(CallError::Connector(ProvisionError::Unsupported(_))) = &got {
            if scenario == Scenario::Success {
                report
                    .skipped
                    .push(format!("{label}: the connector answers unsupported"));
                return;
            }
        }
        let stats = target.last_call_stats().unwrap_or_default();
        let problem = match (&got, judge(op, scenario, &got)) {
            (Got::Failed(CallError::Trap { message }), _) => {
                Some(format!("{label} trapped ({}): {message}", scenario.label()))
            }
            (_, Some((expected, why))) => Some(format!(
                "{label} → {}: expected {expected}, got {} ({why}){}",
                scenario.label(),
                describe(&got),
                said(&got)
            )),
            (_, None) => None,
        };
        if scenario == Scenario::Conflict && op == Op::Create {
            if let Got::Failed(CallError::Connector(ProvisionError::Conflict(c))) = &got {
                if c.existing_remote_id.as_deref() != Some(EXISTING_ID) {
                    report.lints.push(Lint {
                        level: Level::Warning,
                        message: format!(
                            "{label} → 409: the conflict does not name the existing id from \
                             the body ({EXISTING_ID}), so the host cannot link it"
                        ),
                    });
                }
            }
        }
        if let Some(problem) = &problem {
            report.failures.push(problem.clone());
        }
        report.calls.push(CallReport {
            kind: kind_name,
            operation: op,
            scenario,
            verdict: if problem.is_some() { "fail" } else { "pass" },
            got: describe(&got),
            problem,
            guest_ms: millis(stats.guest_time()),
            peak_memory_bytes: stats.peak_memory_bytes,
        });
        if scenario == Scenario::Success && mock.api_requests() == 0 && op.is_write() {
            report.lints.push(Lint {
                level: Level::Warning,
                message: format!("{label} sent no request to the target"),
            });
        }
    }
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn summarize(report: &mut Report) {
    let mut times: Vec<f64> = report.calls.iter().map(|c| c.guest_ms).collect();
    times.sort_by(f64::total_cmp);
    report.max_guest_ms = times.last().copied().unwrap_or_default();
    report.median_guest_ms = times.get(times.len() / 2).copied().unwrap_or_default();
    report.peak_memory_bytes = report
        .calls
        .iter()
        .map(|c| c.peak_memory_bytes)
        .max()
        .unwrap_or_default();
}

fn render(report: &Report) -> String {
    let mut out = format!(
        "{} {} ({}), component {:.1} KiB, loaded in {:.0} ms\n",
        report.connector,
        report.version,
        report.contract,
        report.component_bytes as f64 / 1024.0,
        report.load_ms
    );
    for l in &report.lints {
        let level = match l.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        out += &format!("  {level}: {}\n", l.message);
    }
    out += &format!(
        "\n  {:<14} {:<9} {:<6} {:>9} {:>9}  got\n",
        "operation", "scenario", "", "guest ms", "mem KiB"
    );
    for c in &report.calls {
        let op = if c.kind == "user" {
            c.operation_name().to_string()
        } else {
            format!("{} {}", c.kind, c.operation_name())
        };
        out += &format!(
            "  {:<14} {:<9} {:<6} {:>9.2} {:>9}  {}\n",
            op,
            c.scenario.label(),
            c.verdict,
            c.guest_ms,
            c.peak_memory_bytes / 1024,
            c.got
        );
    }
    for s in &report.skipped {
        out += &format!("  skipped: {s}\n");
    }
    out += &format!(
        "\nguest time per call: median {:.2} ms, max {:.2} ms; peak memory {:.1} MiB\n",
        report.median_guest_ms,
        report.max_guest_ms,
        report.peak_memory_bytes as f64 / (1024.0 * 1024.0)
    );
    if report.failures.is_empty() {
        out += &format!("PASS: {} calls, no failure\n", report.calls.len());
    } else {
        out += &format!("FAIL: {} failure(s)\n", report.failures.len());
        for f in &report.failures {
            out += &format!("  - {f}\n");
        }
    }
    out
}

impl CallReport {
    fn operation_name(&self) -> &'static str {
        self.operation.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use provisioner_contract::{ErrorDetail, TransientError};

    fn transient(outcome_unknown: bool) -> Got {
        Got::Failed(CallError::Connector(ProvisionError::Transient(
            TransientError {
                detail: ErrorDetail {
                    message: "x".into(),
                    target_code: None,
                    fields: vec![],
                    http_status: Some(404),
                },
                outcome_unknown,
            },
        )))
    }

    #[test]
    fn the_shared_mapping_decides_each_verdict() {
        assert_eq!(
            judge(Op::Update, Scenario::NotFound, &transient(false)),
            Some((
                "not-found",
                "the target said the entity does not exist; retrying cannot help"
            ))
        );
        assert_eq!(judge(Op::Delete, Scenario::NotFound, &Got::Done), None);
        assert_eq!(
            judge(Op::Lookup, Scenario::NotFound, &Got::Found(false)),
            None
        );
        assert!(judge(Op::Lookup, Scenario::NotFound, &Got::Found(true)).is_some());
        assert_eq!(
            judge(Op::Create, Scenario::ServerError, &transient(true)),
            None
        );
        assert!(judge(Op::Create, Scenario::Stall, &transient(false)).is_some());
        assert_eq!(judge(Op::Lookup, Scenario::Reset, &transient(false)), None);
        assert!(judge(Op::Create, Scenario::Success, &transient(false)).is_some());
    }
}
