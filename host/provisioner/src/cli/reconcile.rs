//! `provisioner reconcile`: compare one target's users with the local users and print each
//! drift (missing remotely, unknown remotely, a field or the active state that differs); with
//! `--repair` (or the target's `repair` policy) also queue the jobs that fix it.
//!
//! With `--server` (or $PROVISIONER_SERVER) the running server reconciles through its admin API
//! and this command prints the run. Offline, the connector reads the target the way the
//! server's does, so the command needs what the server needs to reach it: `--config` (the
//! server's targets and secrets), or `--db` with `--allow-loopback`/`--allow-private` for
//! targets on such networks. The repair jobs run on a running server's dispatcher (or
//! `provisioner dispatch`).

use anyhow::{anyhow, bail, Context};
use clap::Args;
use provisioner_engine::reconcile::REPORT_DRIFT_LIMIT;
use provisioner_engine::store::{Drift, DriftKind, ReconcileRun, ReconcileState};
use provisioner_engine::{Engine, ReconcileOptions, ReconcileReport};
use provisioner_runtime::EgressPolicy;
use provisioner_server::admin::reconcile::Reconciliation;

use super::admin_client::AdminClient;
use super::target::ServerStoreArgs;

/// Drift rows read per page when printing a run.
const DRIFT_PAGE: i64 = 1_000;

/// Reconcile options.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Tenant of the target.
    #[arg(long)]
    tenant: String,
    /// The target to reconcile.
    #[arg(long)]
    target: String,
    #[command(flatten)]
    store: ServerStoreArgs,
    /// Queue the job that fixes each drift (default: the target's policy, `report` unless
    /// configured otherwise).
    #[arg(long, conflicts_with = "report_only")]
    repair: bool,
    /// Only report, whatever the target's policy.
    #[arg(long)]
    report_only: bool,
    /// Remote users asked for per page (offline; a server uses its own).
    #[arg(long, default_value_t = provisioner_engine::reconcile::RECONCILE_PAGE_SIZE)]
    page_size: u32,
    /// Let the connector reach loopback addresses, with --db (local emulators).
    #[arg(long)]
    allow_loopback: bool,
    /// Let the connector reach private and link-local networks, with --db.
    #[arg(long)]
    allow_private: bool,
    /// Print the run and every drift as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `provisioner reconcile`.
pub async fn run(args: ReconcileArgs) -> anyhow::Result<()> {
    let repair = match (args.repair, args.report_only) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let (report, drift) = match args.store.api()? {
        Some(client) => through_api(&client, &args, repair).await?,
        None => offline(&args, repair).await?,
    };
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["drift"] = serde_json::to_value(&drift)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_report(&report, &drift);
    }
    if report.run.state == ReconcileState::Failed {
        bail!(
            "reconciliation run {} of {}/{} failed: {}",
            report.run.id,
            args.tenant,
            args.target,
            report.run.error.as_deref().unwrap_or("no reason recorded")
        );
    }
    Ok(())
}

/// Reconciles on the database, with a connector built here; returns the run and all its drift.
async fn offline(
    args: &ReconcileArgs,
    repair: Option<bool>,
) -> anyhow::Result<(ReconcileReport, Vec<Drift>)> {
    let engine = args.store.engine().await?;
    let egress = EgressPolicy {
        allow_loopback: args.allow_loopback,
        allow_private: args.allow_private,
    };
    let registry = args.store.registry(&engine, egress).await?;
    let options = ReconcileOptions {
        repair,
        page_size: args.page_size,
    };
    let report = engine
        .reconcile(&registry, &args.tenant, &args.target, options)
        .await
        .with_context(|| {
            format!(
                "cannot reconcile target {}/{} (`provisioner target list` shows the targets)",
                args.tenant, args.target
            )
        })?;
    let drift = all_drift(&engine, &report).await?;
    Ok((report, drift))
}

/// Has the running server reconcile (waiting for the run's end); returns the run and the
/// drift its report carries (the first [`REPORT_DRIFT_LIMIT`]).
async fn through_api(
    client: &AdminClient,
    args: &ReconcileArgs,
    repair: Option<bool>,
) -> anyhow::Result<(ReconcileReport, Vec<Drift>)> {
    let body = serde_json::json!({ "repair": repair, "wait": true });
    let view: Reconciliation = client
        .post(
            &[
                "tenants",
                &args.tenant,
                "targets",
                &args.target,
                "reconcile",
            ],
            &body,
        )
        .await
        .with_context(|| format!("reconciling target {}/{}", args.tenant, args.target))?;
    report_of(&args.tenant, view)
}

/// The engine's report of a run as the admin API shows it.
fn report_of(tenant: &str, view: Reconciliation) -> anyhow::Result<(ReconcileReport, Vec<Drift>)> {
    let unreadable = |what: &str, value: &str| {
        anyhow!("the server answered a {what} this command does not know: `{value}`")
    };
    let run = view.run;
    let run = ReconcileRun {
        id: run.id,
        tenant: tenant.to_owned(),
        target: run.target,
        state: run
            .state
            .parse()
            .map_err(|_| unreadable("state", &run.state))?,
        policy: run
            .policy
            .parse()
            .map_err(|_| unreadable("policy", &run.policy))?,
        remote_seen: run.remote_seen,
        local_seen: run.local_seen,
        drift_count: run.drift_count,
        error: run.error,
        started_at: run.started_at,
        finished_at: run.finished_at,
    };
    let mut drift = Vec::with_capacity(view.drift.len());
    for d in view.drift {
        drift.push(Drift {
            kind: d
                .kind
                .parse()
                .map_err(|_| unreadable("drift kind", &d.kind))?,
            entity_id: d.entity_id,
            user_name: d.user_name,
            remote_id: d.remote_id,
            field: d.field,
            expected: d.expected,
            actual: d.actual,
            repair_job: d
                .repair
                .as_deref()
                .and_then(|r| r.strip_prefix("queued job "))
                .and_then(|n| n.parse().ok()),
            repair: d.repair,
        });
    }
    let report = ReconcileReport {
        run,
        drift: drift.clone(),
    };
    Ok((report, drift))
}

/// Every drift of the run (a report carries only the first ones).
async fn all_drift(engine: &Engine, report: &ReconcileReport) -> anyhow::Result<Vec<Drift>> {
    let mut drift = Vec::new();
    let mut after = 0;
    loop {
        let page = engine
            .store()
            .reconcile_drift(report.run.id, after, DRIFT_PAGE)
            .await?;
        let Some((last, _)) = page.last() else {
            return Ok(drift);
        };
        after = *last;
        drift.extend(page.into_iter().map(|(_, d)| d));
    }
}

fn print_report(report: &ReconcileReport, drift: &[Drift]) {
    let run = &report.run;
    println!(
        "reconciliation run {} of {}/{} ({}): {}; {} remote users read, {} local users in scope, \
         {} drift",
        run.id,
        run.tenant,
        run.target,
        run.policy,
        run.state.as_str(),
        run.remote_seen,
        run.local_seen,
        run.drift_count
    );
    for d in drift {
        println!("  {}", describe(d));
    }
    let unlisted = run.drift_count - drift.len() as i64;
    if unlisted > 0 {
        println!(
            "  ... and {unlisted} more (the admin API shows a run's first {REPORT_DRIFT_LIMIT}; \
             offline, with --config or --db, every one is printed)"
        );
    }
}

/// One drift as a line.
pub fn describe(d: &Drift) -> String {
    let who = match (&d.entity_id, &d.user_name) {
        (Some(id), Some(name)) => format!("user {id} ({name})"),
        (Some(id), None) => format!("user {id}"),
        (None, Some(name)) => format!("remote user {name}"),
        (None, None) => "remote user".to_owned(),
    };
    let remote = d
        .remote_id
        .as_deref()
        .map(|id| format!(" [remote id {id}]"))
        .unwrap_or_default();
    let what = match d.kind {
        DriftKind::MissingRemotely => "missing remotely".to_owned(),
        DriftKind::UnknownRemotely => "unknown remotely (reported only, never deleted)".to_owned(),
        DriftKind::FieldDiffers => format!(
            "{} differs: expected {}, found {}",
            d.field.as_deref().unwrap_or("a field"),
            quoted(d.expected.as_deref()),
            quoted(d.actual.as_deref())
        ),
        DriftKind::ActiveDiffers => format!(
            "active state differs: expected {}, found {}",
            active_word(d.expected.as_deref()),
            active_word(d.actual.as_deref())
        ),
    };
    let repair = d
        .repair
        .as_deref()
        .map(|r| format!(" -> repair: {r}"))
        .unwrap_or_default();
    format!("{who}{remote}: {what}{repair}")
}

fn quoted(value: Option<&str>) -> String {
    value.map_or_else(|| "nothing".to_owned(), |v| format!("`{v}`"))
}

fn active_word(value: Option<&str>) -> &'static str {
    match value {
        Some("true") => "active",
        Some("false") => "inactive",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_lines_say_what_differs_and_the_repair() {
        let mut field = Drift::of(DriftKind::FieldDiffers);
        field.entity_id = Some("u7".into());
        field.user_name = Some("u7@example.com".into());
        field.remote_id = Some("005A".into());
        field.field = Some("LastName".into());
        field.expected = Some("First".into());
        field.actual = Some("Edited".into());
        field.repaired_by(12);
        assert_eq!(
            describe(&field),
            "user u7 (u7@example.com) [remote id 005A]: LastName differs: expected `First`, \
             found `Edited` -> repair: queued job 12"
        );
        let mut active = Drift::of(DriftKind::ActiveDiffers);
        active.entity_id = Some("u3".into());
        active.expected = Some("true".into());
        active.actual = Some("false".into());
        assert_eq!(
            describe(&active),
            "user u3: active state differs: expected active, found inactive"
        );
        let mut unknown = Drift::of(DriftKind::UnknownRemotely);
        unknown.user_name = Some("stranger@example.com".into());
        assert_eq!(
            describe(&unknown),
            "remote user stranger@example.com: unknown remotely (reported only, never deleted)"
        );
    }
}
