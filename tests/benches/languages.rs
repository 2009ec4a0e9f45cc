//! Connector languages side by side: for a Rust, a JavaScript (componentize-js) and a Python
//! (componentize-py) connector, in ONE run: component size, compile time with an empty cache,
//! cached load time (warm disk cache, new `Runtime`), and the cost of one fresh call (`provision`
//! create through the sandbox against a loopback HTTP server, median of several calls). Prints a
//! table with ratios to Rust.
//!
//! The components are built beforehand from the templates (`sdk/templates/<lang>`):
//!
//! ```sh
//! bash tests/support/build-templates.sh target/templates
//! LANGUAGES_BENCH_DIR=target/templates cargo bench -p provisioner-tests --bench languages
//! ```
//!
//! `<dir>/js.wasm` and `<dir>/python.wasm` are required; `<dir>/rust.wasm` (the Rust template)
//! is used when present, else the `echo` test guest stands in for Rust (sending the same
//! `POST /users`). Compilation of a JS or Python component takes tens of seconds, so compile time
//! is one sample per language.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisioner_contract::{
    Change, Claim, Entity, Group, LookupKey, Operation, ProvisionError, User,
};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig, TargetConfig, TargetInstance};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Fresh calls measured per language (after one warm-up call).
const CALLS: usize = 101;
/// Cached loads measured per language.
const LOADS: usize = 5;

/// One component under measurement.
struct Subject {
    label: String,
    bytes: Vec<u8>,
    /// Claims that make the component send `POST /users` (the echo guest reads its request from
    /// claims; the templates always do on create).
    claims: Vec<Claim>,
    /// Whether this is a template connector, whose errors follow the shared mapping.
    template: bool,
}

/// What was measured for one component.
struct Figures {
    size: usize,
    compile: Duration,
    cached_load: Duration,
    fresh_call: Duration,
}

/// Loopback HTTP/1.1 server (keep-alive) answering like the templates' REST API: `POST` 201
/// `{"id":"r-1"}`, `DELETE` 204, anything else 200 `{"id":"r-1"}`; it counts `POST /users`.
async fn start_sink() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let posts = Arc::new(AtomicUsize::new(0));
    let counter = posts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            tokio::spawn(async move {
                stream.set_nodelay(true).unwrap();
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    if request_line.starts_with("POST /users ") {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    let (status, payload) = match request_line.split(' ').next() {
                        Some("POST") => ("201 Created", r#"{"id":"r-1"}"#),
                        Some("DELETE") => ("204 No Content", ""),
                        _ => ("200 OK", r#"{"id":"r-1"}"#),
                    };
                    // One write: a head and body written apart wait on delayed ACKs.
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{payload}",
                        payload.len()
                    );
                    if write.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, posts)
}

fn claim(uri: &str, value: &str) -> Claim {
    Claim {
        uri: uri.into(),
        values: vec![value.into()],
    }
}

/// The change `operation` of user `ada` (remote id `r-1` unless a create).
fn change(operation: Operation, claims: &[Claim]) -> Change {
    let mut all = vec![
        claim(
            "urn:ietf:params:scim:schemas:core:2.0:User:emails",
            "ada@example.com",
        ),
        claim(
            "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
            "Lovelace",
        ),
    ];
    all.extend_from_slice(claims);
    Change {
        operation,
        entity: Entity::User(User {
            local_id: "u-1".into(),
            name: "ada".into(),
            remote_id: (operation != Operation::Create).then(|| "r-1".into()),
            claims: all,
            changed_claims: vec![],
            previous_name: None,
        }),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn subjects(dir: &Path) -> Vec<Subject> {
    let read = |name: &str| -> Option<Vec<u8>> { std::fs::read(dir.join(name)).ok() };
    let rust = match read("rust.wasm") {
        Some(bytes) => Subject {
            label: "rust (template)".into(),
            bytes,
            claims: vec![],
            template: true,
        },
        None => Subject {
            label: "rust (echo guest)".into(),
            bytes: std::fs::read(test_components::GUEST_ECHO).unwrap(),
            claims: vec![
                claim("urn:echo:method", "POST"),
                claim("urn:echo:path", "/users"),
            ],
            template: false,
        },
    };
    let mut all = vec![rust];
    for (file, label) in [("js.wasm", "javascript"), ("python.wasm", "python")] {
        let bytes = read(file).unwrap_or_else(|| {
            panic!(
                "{} is missing: build the templates first with \
                 `bash tests/support/build-templates.sh {}`",
                dir.join(file).display(),
                dir.display()
            )
        });
        all.push(Subject {
            label: label.into(),
            bytes,
            claims: vec![],
            template: true,
        });
    }
    all
}

fn measure(
    rt: &tokio::runtime::Runtime,
    subject: &Subject,
    sink: &str,
    posts: &AtomicUsize,
) -> Figures {
    let cache = tempfile::tempdir().unwrap();
    let config = || RuntimeConfig::new(cache.path());

    let runtime = Runtime::new(config()).unwrap();
    let bytes = subject.bytes.clone();
    let start = Instant::now();
    let (_, report) = rt.block_on(runtime.load_bytes(bytes)).unwrap();
    let compile = start.elapsed();
    assert!(
        !report.cache_hit(),
        "{}: the first load must compile",
        subject.label
    );
    drop(runtime);

    let cached_load = median(
        (0..LOADS)
            .map(|_| {
                let runtime = Runtime::new(config()).unwrap();
                let bytes = subject.bytes.clone();
                let start = Instant::now();
                let (_, report) = rt.block_on(runtime.load_bytes(bytes)).unwrap();
                let elapsed = start.elapsed();
                assert!(
                    report.cache_hit(),
                    "{}: a new runtime must load from the cache",
                    subject.label
                );
                elapsed
            })
            .collect(),
    );

    let runtime = Runtime::new(config()).unwrap();
    let (connector, _) = rt
        .block_on(runtime.load_bytes(subject.bytes.clone()))
        .unwrap();
    let target_config = TargetConfig::new("bench", "languages")
        .value("endpoint", sink)
        .egress(EgressPolicy::loopback());
    let target = TargetInstance::new(&runtime, connector, target_config).unwrap();
    let create = change(Operation::Create, &subject.claims);
    let before = posts.load(Ordering::SeqCst);
    let fresh_call = median(
        (0..=CALLS)
            .map(|_| {
                let start = Instant::now();
                let outcome = rt
                    .block_on(target.provision(&create))
                    .unwrap_or_else(|e| panic!("{}: create failed: {e}", subject.label));
                let elapsed = start.elapsed();
                std::hint::black_box(outcome);
                elapsed
            })
            .skip(1)
            .collect(),
    );
    assert_eq!(
        posts.load(Ordering::SeqCst) - before,
        CALLS + 1,
        "{}: every create must reach the sink as POST /users",
        subject.label
    );
    if subject.template {
        assert_operations(rt, &target, subject);
        assert_refused_connection_is_transient(rt, &runtime, &target, subject);
    }
    Figures {
        size: subject.bytes.len(),
        compile,
        cached_load,
        fresh_call,
    }
}

/// A template's other operations through the sandbox: update keeps the remote id, delete
/// releases it, lookup finds `r-1`, a batch answers one result per change, a group is
/// `unsupported`.
fn assert_operations(rt: &tokio::runtime::Runtime, target: &TargetInstance, subject: &Subject) {
    let label = &subject.label;
    let updated = rt
        .block_on(target.provision(&change(Operation::Update, &[])))
        .unwrap_or_else(|e| panic!("{label}: update failed: {e}"));
    assert_eq!(updated.remote_id.as_deref(), Some("r-1"), "{label}: update");
    let deleted = rt
        .block_on(target.provision(&change(Operation::Delete, &[])))
        .unwrap_or_else(|e| panic!("{label}: delete failed: {e}"));
    assert_eq!(
        deleted.remote_id, None,
        "{label}: delete releases the remote id"
    );
    let Entity::User(user) = change(Operation::Create, &[]).entity else {
        unreachable!("change() builds users")
    };
    let found = rt
        .block_on(target.lookup(&LookupKey::Entity(Entity::User(user))))
        .unwrap_or_else(|e| panic!("{label}: lookup failed: {e}"));
    assert_eq!(
        found.map(|o| o.remote_id).as_deref(),
        Some("r-1"),
        "{label}: lookup"
    );
    let batch = rt
        .block_on(target.provision_batch(&[change(Operation::Create, &[])]))
        .unwrap_or_else(|e| panic!("{label}: batch failed: {e}"));
    assert!(
        matches!(batch.as_slice(), [Ok(_)]),
        "{label}: batch {batch:?}"
    );
    let group = Change {
        operation: Operation::Create,
        entity: Entity::Group(Group {
            local_id: "g-1".into(),
            name: "staff".into(),
            remote_id: None,
            members: vec![],
            added_members: vec![],
            removed_members: vec![],
            previous_name: None,
        }),
    };
    match rt.block_on(target.provision(&group)) {
        Err(provisioner_runtime::CallError::Connector(ProvisionError::Unsupported(_))) => {}
        other => panic!("{label}: a group must be unsupported, got {other:?}"),
    }
}

/// A template's create against a closed loopback port must fail typed, through the SDK's shared
/// mapping (connection failed, nothing sent: transient, outcome known), not trap.
fn assert_refused_connection_is_transient(
    rt: &tokio::runtime::Runtime,
    runtime: &Runtime,
    target: &TargetInstance,
    subject: &Subject,
) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let config = TargetConfig::new("bench", "closed")
        .value("endpoint", url.as_str())
        .egress(EgressPolicy::loopback());
    let closed_target = TargetInstance::new(runtime, target.connector().clone(), config).unwrap();
    match rt.block_on(closed_target.provision(&change(Operation::Create, &subject.claims))) {
        Err(provisioner_runtime::CallError::Connector(ProvisionError::Transient(error))) => {
            assert!(
                !error.outcome_unknown,
                "{}: nothing was sent, so the outcome is known: {error:?}",
                subject.label
            );
        }
        other => panic!(
            "{}: a refused connection must be a transient error, got {other:?}",
            subject.label
        ),
    }
}

fn main() {
    // A relative directory is relative to the workspace root (cargo runs benches in `tests/`).
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(dir) = std::env::var_os("LANGUAGES_BENCH_DIR").map(|dir| workspace.join(dir)) else {
        eprintln!(
            "set LANGUAGES_BENCH_DIR to a directory of built template components: \
             `bash tests/support/build-templates.sh target/templates && \
             LANGUAGES_BENCH_DIR=target/templates cargo bench -p provisioner-tests --bench languages`"
        );
        std::process::exit(2);
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sink, posts) = rt.block_on(start_sink());
    let subjects = subjects(&dir);
    let figures: Vec<Figures> = subjects
        .iter()
        .map(|subject| {
            eprintln!("measuring {} ...", subject.label);
            measure(&rt, subject, &sink, &posts)
        })
        .collect();

    let rust = &figures[0];
    println!(
        "{:<18} {:>10} {:>7} {:>12} {:>7} {:>12} {:>7} {:>12} {:>7}",
        "component", "size KiB", "x", "compile ms", "x", "cached ms", "x", "call µs", "x"
    );
    for (subject, f) in subjects.iter().zip(&figures) {
        println!(
            "{:<18} {:>10} {:>7.1} {:>12.0} {:>7.1} {:>12.1} {:>7.1} {:>12.0} {:>7.1}",
            subject.label,
            f.size / 1024,
            f.size as f64 / rust.size as f64,
            millis(f.compile),
            ratio(f.compile, rust.compile),
            millis(f.cached_load),
            ratio(f.cached_load, rust.cached_load),
            f.fresh_call.as_secs_f64() * 1e6,
            ratio(f.fresh_call, rust.fresh_call),
        );
    }
    println!(
        "(compile: one sample; cached load: median of {LOADS}; call: median of {CALLS} fresh-instance creates)"
    );
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
