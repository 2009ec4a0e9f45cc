//! One call into a connector: a fresh `Store` from the cached `InstancePre`, with a memory limit,
//! an epoch deadline, an outer timeout and a locked-down WASI context.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::AsyncWrite;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::capabilities::http::HttpCapability;
use crate::capabilities::log::LogCapability;
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

/// What a typed call returns: the future of one export's result, borrowing the instance and
/// its store.
pub(crate) type GuestFuture<'a, R> = BoxFuture<'a, wasmtime::Result<R>>;

/// Runs one typed call in a fresh store: `call` gets the instantiated connector and its store.
pub(crate) async fn invoke<R, F>(
    engine: &Engine,
    config: &RuntimeConfig,
    connector: &ConnectorPre<HostState>,
    context: CallContext,
    call: F,
) -> Result<R, CallError>
where
    F: for<'a> FnOnce(&'a ConnectorInstance, &'a mut Store<HostState>) -> GuestFuture<'a, R> + Send,
{
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
    let log = context.log.clone();
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
        http: context.http,
        log: context.log,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(1);
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

    let run = async {
        let instance = connector
            .instantiate_async(&mut store)
            .await
            .map_err(|e| (Stage::Instantiate, e))?;
        call(&instance, &mut store)
            .await
            .map_err(|e| (Stage::Call, e))
    };
    let started = Instant::now();
    let outcome = tokio::time::timeout(config.outer_timeout, run).await;
    if let Some(sink) = &context.stats {
        *sink.lock().unwrap() = Some(CallStats {
            elapsed: started.elapsed(),
            host_time: store.data().host_time,
            peak_memory_bytes: store.data().limiter.total as u64,
        });
    }

    emit_output(&log, "stdout", &stdout);
    emit_output(&log, "stderr", &stderr);
    let stderr_tail = tail_of(&stderr);
    match outcome {
        Err(_) => Err(CallError::Timeout {
            timeout: config.outer_timeout,
        }),
        Ok(Ok(result)) => Ok(result),
        Ok(Err((stage, error))) => Err(classify(error, stage, store.data(), config, stderr_tail)),
    }
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
