//! `provisioner sync`: an initial or full sync of one target, resumable, with progress.
//!
//! The command starts the target's sync run (or resumes the one not yet settled, e.g. after a
//! crash: the run's cursor is in the database), queues the run's jobs a few chunks at a time and,
//! unless `--no-wait`, shows the run's progress until every job is done or dead. The jobs run on
//! a running server's dispatcher, or on one inside this process with `--dispatch`.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use provisioner_engine::store::{SyncRun, SyncState};
use provisioner_engine::{Dispatcher, DispatcherConfig, Engine, SyncStep};
use provisioner_runtime::EgressPolicy;

use super::target::ServerStoreArgs;

/// Chunks of users queued between two progress reads.
const CHUNKS_PER_STEP: u64 = 5;
/// How often progress is read while jobs run.
const POLL: Duration = Duration::from_millis(250);
/// How often a progress line is printed when the output is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// Sync options.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Tenant of the target.
    #[arg(long)]
    tenant: String,
    /// The target to sync.
    #[arg(long)]
    target: String,
    #[command(flatten)]
    store: ServerStoreArgs,
    /// Queue the run's jobs and return, without waiting for them.
    #[arg(long)]
    no_wait: bool,
    /// Run a dispatcher in this process to drain the queue (otherwise a running server's
    /// dispatcher does, and this command only watches).
    #[arg(long, conflicts_with = "no_wait")]
    dispatch: bool,
    /// Jobs run concurrently at most, with --dispatch.
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// Let connectors reach loopback addresses, with --dispatch and --db (local emulators).
    #[arg(long)]
    allow_loopback: bool,
    /// Let connectors reach private and link-local networks, with --dispatch and --db.
    #[arg(long)]
    allow_private: bool,
    /// Print the result as JSON (and no progress).
    #[arg(long)]
    json: bool,
}

/// Runs `provisioner sync`.
pub async fn run(args: SyncArgs) -> anyhow::Result<()> {
    let engine = args.store.engine().await?;
    let run = engine
        .start_sync(&args.tenant, &args.target)
        .await
        .with_context(|| {
            format!(
                "cannot start a sync of target {}/{} (`provisioner target list` shows the targets)",
                args.tenant, args.target
            )
        })?;
    if !args.json {
        let how = if run.enqueued > 0 || run.state != SyncState::Running {
            "resuming"
        } else {
            "starting"
        };
        println!(
            "{how} sync run {} of {}/{} ({} live users)",
            run.id, args.tenant, args.target, run.total
        );
    }
    if args.no_wait {
        let run = engine.continue_sync(run.id, SyncStep::default()).await?;
        report(&run, None, args.json)?;
        return Ok(());
    }
    let dispatcher = if args.dispatch {
        Some(start_dispatcher(&engine, &args).await?)
    } else {
        None
    };
    let started = Instant::now();
    let mut progress = Progress::new(run.finished, args.json);
    let watched = watch(&engine, run.id, &mut progress, dispatcher.as_ref()).await;
    progress.end();
    if let Some((stop, handle)) = dispatcher {
        let _ = stop.send(());
        handle
            .await
            .context("the dispatcher task failed")?
            .context("the dispatcher stopped on a store error")?;
    }
    let run = watched?;
    report(&run, Some(started.elapsed()), args.json)?;
    if run.dead > 0 {
        let db = args.store.db_url()?;
        bail!(
            "{} job(s) of sync run {} ended as dead letters: `provisioner dead-letters --db {db} \
             --tenant {t} --target {x}` lists them with the target's errors; after fixing the \
             cause, `provisioner replay --db {db} --tenant {t} --target {x} --all` retries them",
            run.dead,
            run.id,
            t = args.tenant,
            x = args.target,
        );
    }
    Ok(())
}

/// A dispatcher running in this process, and how to stop it.
type Running = (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<
        provisioner_engine::store::StoreResult<provisioner_engine::DispatchStats>,
    >,
);

async fn start_dispatcher(engine: &Engine, args: &SyncArgs) -> anyhow::Result<Running> {
    let egress = EgressPolicy {
        allow_loopback: args.allow_loopback,
        allow_private: args.allow_private,
    };
    let registry = Arc::new(args.store.registry(engine, egress).await?);
    let dispatcher = Dispatcher::new(
        engine,
        registry,
        DispatcherConfig {
            workers: args.workers,
            ..DispatcherConfig::default()
        },
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        dispatcher
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    Ok((stop, handle))
}

/// Queues the rest of the run's jobs, then follows its progress until it settles.
async fn watch(
    engine: &Engine,
    id: i64,
    progress: &mut Progress,
    dispatcher: Option<&Running>,
) -> anyhow::Result<SyncRun> {
    let mut paused_said = false;
    loop {
        let run = engine.sync_run(id).await?;
        progress.show(&run);
        if run.state.is_settled() {
            return Ok(run);
        }
        if dispatcher.is_some_and(|(_, handle)| handle.is_finished()) {
            bail!("the dispatcher stopped before the sync run settled");
        }
        if run.state == SyncState::Running {
            let step = SyncStep {
                max_chunks: Some(CHUNKS_PER_STEP),
                ..SyncStep::default()
            };
            engine.continue_sync(id, step).await?;
            continue;
        }
        if !paused_said {
            if let Some(target) = engine.store().target(&run.tenant, &run.target).await? {
                if target.paused && target.paused_until.is_none() {
                    progress.note(&format!(
                        "target {}/{} is paused until an operator resumes it ({}): `provisioner \
                         target resume` lets the run go on",
                        run.tenant,
                        run.target,
                        target.pause_reason.as_deref().unwrap_or("no reason given")
                    ));
                    paused_said = true;
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Prints the run's result: a summary line, or JSON.
fn report(run: &SyncRun, elapsed: Option<Duration>, json: bool) -> anyhow::Result<()> {
    let seconds = elapsed.map(|e| e.as_secs_f64());
    let rate = seconds
        .filter(|s| *s > 0.0)
        .map(|s| run.succeeded() as f64 / s);
    if json {
        let mut value = serde_json::to_value(run)?;
        value["elapsed_ms"] = serde_json::json!(elapsed.map(|e| e.as_millis() as u64));
        value["users_per_second"] = serde_json::json!(rate);
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    match (run.state, seconds) {
        (SyncState::Done | SyncState::Failed, Some(seconds)) => println!(
            "sync run {} of {}/{} {}: {} users, {} done, {} dead in {seconds:.1} s ({:.0} users/s)",
            run.id,
            run.tenant,
            run.target,
            run.state,
            run.enqueued,
            run.succeeded(),
            run.dead,
            rate.unwrap_or_default()
        ),
        _ => println!(
            "sync run {} of {}/{} {}: {} jobs queued, {} finished ({} dead); `provisioner sync \
             --tenant {} --target {}` follows it",
            run.id,
            run.tenant,
            run.target,
            run.state,
            run.enqueued,
            run.finished,
            run.dead,
            run.tenant,
            run.target
        ),
    }
    Ok(())
}

/// The progress display: a bar redrawn in place on a terminal, a line every few seconds
/// otherwise, nothing with `--json`.
struct Progress {
    started: Instant,
    finished_at_start: i64,
    terminal: bool,
    quiet: bool,
    last_line: Option<Instant>,
    drawn: bool,
}

impl Progress {
    fn new(finished_at_start: i64, quiet: bool) -> Self {
        Self {
            started: Instant::now(),
            finished_at_start,
            terminal: std::io::stdout().is_terminal(),
            quiet,
            last_line: None,
            drawn: false,
        }
    }

    fn show(&mut self, run: &SyncRun) {
        if self.quiet {
            return;
        }
        let settled = run.state.is_settled();
        if !self.terminal && !settled && self.last_line.is_some_and(|at| at.elapsed() < PLAIN_EVERY)
        {
            return;
        }
        let line = progress_line(run, self.started.elapsed(), self.finished_at_start);
        let mut out = std::io::stdout().lock();
        if self.terminal {
            let _ = write!(out, "\r{line}\x1b[K");
            self.drawn = true;
        } else {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
        self.last_line = Some(Instant::now());
    }

    fn note(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        self.end();
        println!("{text}");
    }

    fn end(&mut self) {
        if self.drawn {
            println!();
            self.drawn = false;
        }
    }
}

/// `[=====>    ] 1234/2500  49%  512/s  ETA 3 s  (2 dead)`: jobs finished of the run's total,
/// the rate since the command started and the time left at that rate.
fn progress_line(run: &SyncRun, elapsed: Duration, finished_at_start: i64) -> String {
    const WIDTH: usize = 30;
    let total = run.total.max(run.enqueued).max(1);
    let share = (run.finished as f64 / total as f64).clamp(0.0, 1.0);
    let filled = (share * WIDTH as f64) as usize;
    let bar: String = (0..WIDTH)
        .map(|i| match i.cmp(&filled) {
            std::cmp::Ordering::Less => '=',
            std::cmp::Ordering::Equal => '>',
            std::cmp::Ordering::Greater => ' ',
        })
        .collect();
    let rate = (run.finished - finished_at_start).max(0) as f64 / elapsed.as_secs_f64().max(0.001);
    let eta = if rate > 0.0 {
        format!("ETA {:.0} s", (total - run.finished).max(0) as f64 / rate)
    } else {
        "ETA -".to_owned()
    };
    let queueing = if run.state == SyncState::Running {
        format!("  queueing ({} so far)", run.enqueued)
    } else {
        String::new()
    };
    let dead = if run.dead > 0 {
        format!("  ({} dead)", run.dead)
    } else {
        String::new()
    };
    format!(
        "[{bar}] {}/{} {:>3.0}%  {rate:.0}/s  {eta}{queueing}{dead}",
        run.finished,
        total,
        share * 100.0
    )
}
