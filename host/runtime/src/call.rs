//! One call into a connector: a fresh `Store` from the cached `InstancePre`, with a memory limit,
//! an epoch deadline, an outer timeout and a locked-down WASI context.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::AsyncWrite;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::capabilities::http::HttpCapability;
use crate::capabilities::log::LogCapability;
use crate::reuse::LiveInstance;
use crate::runtime::RuntimeInner;
use crate::settings::RuntimeConfig;
use futures::future::BoxFuture;
use provisioner_contract::latest::provisioning::connector as imports;
use provisioner_contract::{
    ConnectorInstance, ConnectorPre, HttpError, Level, OauthGrant, ProvisionError, Request,
    Response,
};

/// Most table elements a store may grow a table to.
const MAX_TABLE_ELEMENTS: usize = 100_000;
/// Most live WASI resources (streams, pollables) per store.
const MAX_RESOURCES: usize = 10_000;
/// Largest `get-random-bytes` request.
const MAX_RANDOM_BYTES: u64 = 1024 * 1024;

/// Why a call into a connector did not produce the connector's answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The connector answered with its own typed error; retry decisions follow its case.
    #[error("connector error: {0:?}")]
    Connector(ProvisionError),
    /// The guest ran past its execution deadline and was stopped.
    #[error(
        "deadline exceeded: the connector ran longer than its {budget:?} budget and was stopped"
    )]
    DeadlineExceeded {
        /// The guest-time budget of a call.
        budget: Duration,
    },
    /// The guest tried to grow its memory past the limit and was stopped.
    #[error("memory limit exceeded: the connector tried to use more than {limit_bytes} bytes")]
    MemoryLimit {
        /// The memory limit per call.
        limit_bytes: u64,
    },
    /// The guest trapped (panic, `unreachable`, out-of-bounds access, stack overflow...).
    #[error("connector trapped: {message}")]
    Trap {
        /// The trap and, when the guest wrote any, the end of its stderr.
        message: String,
    },
    /// The whole call, host calls included, took longer than the outer timeout.
    #[error("call timed out after {timeout:?}")]
    Timeout {
        /// The outer timeout.
        timeout: Duration,
    },
    /// The connector answered something the contract forbids (e.g. a batch result of the wrong
    /// length); nothing it returned is used.
    #[error("invalid answer from the connector: {message}")]
    InvalidAnswer {
        /// What was wrong.
        message: String,
    },
    /// The component could not be instantiated.
    #[error("instantiation failed: {message}")]
    Instantiation {
        /// Why.
        message: String,
    },
}

impl CallError {
    /// Whether the failure came from the sandbox (the connector misbehaved or was stopped) rather
    /// than from the connector's own typed answer.
    pub fn is_sandbox_failure(&self) -> bool {
        !matches!(self, Self::Connector(_))
    }
}

/// What one call cost, for conformance reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallStats {
    /// Wall-clock time of the whole call (instantiation included).
    pub elapsed: Duration,
    /// The part of `elapsed` spent waiting on host calls (HTTP and token requests).
    pub host_time: Duration,
    /// Linear memory the instance held at its peak, in bytes (wasm memories never shrink).
    pub peak_memory_bytes: u64,
    /// Part of `elapsed` spent creating the store and its WASI context (or re-arming a reused
    /// sandbox).
    pub setup: Duration,
    /// Part of `elapsed` spent instantiating the component (zero for a reused instance).
    pub instantiation: Duration,
    /// Time after `elapsed` spent dropping the store and returning its memory to the allocator
    /// (zero when the instance is kept for another call).
    pub teardown: Duration,
    /// Whether the call ran in an instance that had served an earlier call of the same target.
    pub reused: bool,
}

impl CallStats {
    /// Time the guest itself ran: `elapsed` less the time in host calls.
    pub fn guest_time(&self) -> Duration {
        self.elapsed.saturating_sub(self.host_time)
    }
}

/// Where a call leaves its [`CallStats`]; the last call to finish wins.
pub(crate) type StatsSink = Arc<Mutex<Option<CallStats>>>;

/// Error the epoch callback raises when the deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("execution deadline exceeded")]
struct DeadlineExceeded;

/// Error the limiter raises when a memory would grow past the limit.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded (requested {requested} bytes)")]
struct MemoryLimitExceeded {
    limit: usize,
    requested: usize,
}

/// Caps the total linear memory of a store; growth past the cap traps.
struct MemoryLimiter {
    limit: usize,
    total: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let requested = self.total.saturating_add(desired.saturating_sub(current));
        if requested > self.limit {
            self.hit = true;
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.limit,
                requested,
            }));
        }
        self.total = requested;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// A bounded capture of guest stdout or stderr: writes always succeed, bytes beyond the cap are
/// counted and dropped.
#[derive(Clone)]
struct OutputCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
    dropped: Arc<AtomicUsize>,
    cap: usize,
}

impl OutputCapture {
    fn new(cap: usize) -> Self {
        Self {
            buffer: Arc::default(),
            dropped: Arc::default(),
            cap,
        }
    }

    fn contents(&self) -> (Vec<u8>, usize) {
        let buffer = self.buffer.lock().unwrap().clone();
        (buffer, self.dropped.load(Ordering::Relaxed))
    }

    /// Forgets what was captured, for the next call of a reused sandbox.
    fn clear(&mut self) {
        self.buffer.lock().unwrap().clear();
        self.dropped.store(0, Ordering::Relaxed);
    }
}

impl AsyncWrite for OutputCapture {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut buffer = self.buffer.lock().unwrap();
        let room = self.cap.saturating_sub(buffer.len());
        let kept = room.min(buf.len());
        buffer.extend_from_slice(&buf[..kept]);
        self.dropped.fetch_add(buf.len() - kept, Ordering::Relaxed);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for OutputCapture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for OutputCapture {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// The data of one call's `Store`.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    /// When the guest's execution budget runs out; pushed back by time spent in host calls.
    deadline: Instant,
    /// Time spent in host HTTP calls so far.
    host_time: Duration,
    http: HttpCapability,
    log: LogCapability,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl imports::types::Host for HostState {}

impl imports::http::Host for HostState {
    async fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let started = Instant::now();
        let result = self.http.send(request).await;
        // Time waiting on the network is not the guest's execution time.
        self.deadline += started.elapsed();
        self.host_time += started.elapsed();
        result
    }

    async fn invalidate_token(&mut self, grant: OauthGrant) {
        self.http.invalidate_token(&grant);
    }
}

impl imports::log::Host for HostState {
    async fn log(&mut self, level: Level, message: String, fields: Vec<(String, String)>) {
        self.log.log(level, &message, &fields);
    }
}

/// Who a call is made for.
pub(crate) struct CallContext {
    pub http: HttpCapability,
    pub log: LogCapability,
    /// Where to leave the call's statistics, if anyone wants them.
    pub stats: Option<StatsSink>,
}

/// What a typed call returns: the future of one export's result, borrowing the instance, its
/// store and the call's arguments.
pub(crate) type GuestFuture<'a, R> = BoxFuture<'a, wasmtime::Result<R>>;

/// One sandbox: a `Store` with its limits and locked-down WASI context, and (once instantiated)
/// the connector instance living in it. Fresh per call unless the runtime lets a target reuse
/// its instances ([`RuntimeConfig::calls_per_instance`]).
pub(crate) struct Sandbox {
    store: Store<HostState>,
    instance: Option<ConnectorInstance>,
    stdout: OutputCapture,
    stderr: OutputCapture,
    /// Calls this sandbox has served.
    calls: u32,
    /// Counts the sandbox as live in its runtime while it exists.
    _live: LiveInstance,
}

impl Sandbox {
    /// A new store; the instance is created by the first call.
    fn new(runtime: &RuntimeInner, context: &CallContext) -> Self {
        let config = &runtime.config;
        let stdout = OutputCapture::new(config.guest_output_limit_bytes);
        let stderr = OutputCapture::new(config.guest_output_limit_bytes);
        let wasi = WasiCtx::builder()
            .stdin(tokio::io::empty())
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .max_random_size(MAX_RANDOM_BYTES)
            .build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let state = HostState {
            wasi,
            table,
            limiter: MemoryLimiter {
                limit: usize::try_from(config.memory_limit_bytes).unwrap_or(usize::MAX),
                total: 0,
                hit: false,
            },
            deadline: Instant::now() + config.call_deadline,
            host_time: Duration::ZERO,
            http: context.http.clone(),
            log: context.log.clone(),
        };
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Err(wasmtime::Error::new(DeadlineExceeded))
            } else {
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        Self {
            store,
            instance: None,
            stdout,
            stderr,
            calls: 0,
            _live: LiveInstance::new(&runtime.counts),
        }
    }

    /// Arms the sandbox for one call: the call's own capabilities, a full execution budget and
    /// no host time yet. The memory the instance already holds still counts against the limit.
    fn arm(&mut self, config: &RuntimeConfig, context: &CallContext) {
        let state = self.store.data_mut();
        state.http = context.http.clone();
        state.log = context.log.clone();
        state.deadline = Instant::now() + config.call_deadline;
        state.host_time = Duration::ZERO;
        self.store.set_epoch_deadline(1);
    }
}

/// Runs one typed call in a fresh sandbox: `call` gets the instantiated connector, its store and
/// `args`.
pub(crate) async fn invoke<A, R, F>(
    runtime: &RuntimeInner,
    connector: &ConnectorPre<HostState>,
    context: CallContext,
    args: &A,
    call: F,
) -> Result<R, CallError>
where
    A: Sync + ?Sized,
    F: for<'a> FnOnce(&'a ConnectorInstance, &'a mut Store<HostState>, &'a A) -> GuestFuture<'a, R>
        + Send,
{
    invoke_in(runtime, connector, None, context, args, call)
        .await
        .0
}

/// Runs one typed call in `sandbox` (a warm one, already instantiated, of the same target) or,
/// without one, in a fresh sandbox. Gives the sandbox back when the call completed and it may
/// serve another; a sandbox whose call failed in any way (trap, deadline, memory limit,
/// timeout) is dropped, since its instance may be left in any state.
pub(crate) async fn invoke_in<A, R, F>(
    runtime: &RuntimeInner,
    connector: &ConnectorPre<HostState>,
    sandbox: Option<Sandbox>,
    context: CallContext,
    args: &A,
    call: F,
) -> (Result<R, CallError>, Option<Sandbox>)
where
    A: Sync + ?Sized,
    F: for<'a> FnOnce(&'a ConnectorInstance, &'a mut Store<HostState>, &'a A) -> GuestFuture<'a, R>
        + Send,
{
    let config = &runtime.config;
    let started = Instant::now();
    let reused = sandbox.is_some();
    let mut sandbox = match sandbox {
        Some(mut warm) => {
            warm.arm(config, &context);
            warm
        }
        None => {
            let mut fresh = Sandbox::new(runtime, &context);
            fresh.store.set_epoch_deadline(1);
            fresh
        }
    };
    let setup = started.elapsed();

    let mut instantiation = Duration::ZERO;
    let run = async {
        let Sandbox {
            store, instance, ..
        } = &mut sandbox;
        let instance = match instance {
            Some(instance) => instance,
            None => {
                let begun = Instant::now();
                let created = connector
                    .instantiate_async(store)
                    .await
                    .map_err(|e| (Stage::Instantiate, e))?;
                instantiation = begun.elapsed();
                instance.insert(created)
            }
        };
        call(instance, store, args)
            .await
            .map_err(|e| (Stage::Call, e))
    };
    let outcome = tokio::time::timeout(config.outer_timeout, run).await;
    let elapsed = started.elapsed();
    sandbox.calls += 1;
    let state = sandbox.store.data();
    let mut stats = CallStats {
        elapsed,
        host_time: state.host_time,
        peak_memory_bytes: state.limiter.total as u64,
        setup,
        instantiation,
        teardown: Duration::ZERO,
        reused,
    };

    emit_output(&context.log, "stdout", &sandbox.stdout);
    emit_output(&context.log, "stderr", &sandbox.stderr);
    let stderr_tail = tail_of(&sandbox.stderr);
    let (result, keep) = match outcome {
        Err(_) => (
            Err(CallError::Timeout {
                timeout: config.outer_timeout,
            }),
            false,
        ),
        Ok(Ok(result)) => (Ok(result), true),
        Ok(Err((stage, error))) => (
            Err(classify(
                error,
                stage,
                sandbox.store.data(),
                config,
                stderr_tail,
            )),
            false,
        ),
    };
    let sandbox = if keep && sandbox.calls < config.calls_per_instance {
        sandbox.stdout.clear();
        sandbox.stderr.clear();
        Some(sandbox)
    } else {
        // Dropping the store returns its memories, tables and instances to the allocator.
        let begun = Instant::now();
        drop(sandbox);
        stats.teardown = begun.elapsed();
        None
    };
    if let Some(sink) = &context.stats {
        *sink.lock().unwrap() = Some(stats);
    }
    (result, sandbox)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Instantiate,
    Call,
}

/// Emits captured output into tracing, one event per line.
fn emit_output(log: &LogCapability, stream: &str, capture: &OutputCapture) {
    let (bytes, dropped) = capture.contents();
    if bytes.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        log.output(stream, line);
    }
    if dropped > 0 {
        log.output(
            stream,
            &format!("[{dropped} more bytes dropped: output limit reached]"),
        );
    }
}

/// The last few hundred bytes the guest wrote to stderr (a Rust panic message ends up there).
fn tail_of(capture: &OutputCapture) -> Option<String> {
    let (bytes, _) = capture.contents();
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let start = text.len().saturating_sub(512);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    Some(crate::answers::sanitize(&text[start..], 1024))
}

fn find<E: std::error::Error + Send + Sync + 'static>(error: &wasmtime::Error) -> bool {
    error.downcast_ref::<E>().is_some() || error.chain().any(|e| e.downcast_ref::<E>().is_some())
}

fn classify(
    error: wasmtime::Error,
    stage: Stage,
    state: &HostState,
    config: &RuntimeConfig,
    stderr_tail: Option<String>,
) -> CallError {
    if find::<DeadlineExceeded>(&error) {
        return CallError::DeadlineExceeded {
            budget: config.call_deadline,
        };
    }
    if state.limiter.hit || find::<MemoryLimitExceeded>(&error) {
        return CallError::MemoryLimit {
            limit_bytes: config.memory_limit_bytes,
        };
    }
    let mut message = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => error.root_cause().to_string(),
    };
    if let Some(tail) = stderr_tail {
        message.push_str("; guest stderr: ");
        message.push_str(&tail);
    }
    match stage {
        Stage::Instantiate => CallError::Instantiation { message },
        Stage::Call => CallError::Trap { message },
    }
}
