//! Cost of one provisioning call: the Salesforce connector's logic called natively vs. through
//! the sandbox, with a fresh instance per call (the default) and with the target's instance
//! reused (`calls_per_instance`), all answered by the same canned responses so no network time
//! is measured; the mean time of each phase of a sandboxed call (store setup, instantiation, the
//! typed call, the host HTTP import, teardown); and the cost of loading a cached compiled
//! component vs. compiling it. Prints medians and ratios measured in one run.
//!
//! Run: `cargo bench -p provisioner-tests --bench connector_call`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisioner_contract::Operation;
use provisioner_runtime::{
    EgressPolicy, OutboundRequest, Runtime, RuntimeConfig, TargetInstance, Transport,
    TransportResponse,
};
use provisioner_server::tutorial::{self, SalesforceOrg};

const DOMAIN: &str = "https://acme.my.salesforce.com";
const TOKEN_URL: &str = "https://login.salesforce.com/services/oauth2/token";
const TOKEN_BODY: &str = r#"{"access_token":"00D5g000004AbCd!token","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00D5g000004AbCdEAA/0055g000001AbCdAAA","token_type":"Bearer","issued_at":"1764288000000","signature":"c2lnbmF0dXJl"}"#;
const CREATED_BODY: &str = r#"{"id":"0055g00000AbCdEAAV","success":true,"errors":[]}"#;

/// Answers the token request and every create with canned responses.
struct CannedTransport;

impl Transport for CannedTransport {
    fn send(
        &self,
        request: OutboundRequest,
    ) -> provisioner_runtime::capabilities::transport::TransportFuture<'_> {
        let body = if request.url.as_str() == TOKEN_URL {
            (200, TOKEN_BODY)
        } else {
            (201, CREATED_BODY)
        };
        Box::pin(async move {
            Ok(TransportResponse {
                status: body.0,
                headers: vec![(
                    "content-type".into(),
                    "application/json;charset=UTF-8".into(),
                )],
                body: body.1.as_bytes().to_vec(),
            })
        })
    }
}

/// The connector logic's host, natively: the same canned answers.
struct CannedHost;

impl salesforce_connector::Host for CannedHost {
    fn send(
        &self,
        _request: &salesforce_connector::Request,
    ) -> Result<salesforce_connector::Response, salesforce_connector::HttpError> {
        Ok(salesforce_connector::Response {
            status: 201,
            headers: vec![(
                "content-type".into(),
                "application/json;charset=UTF-8".into(),
            )],
            body: CREATED_BODY.as_bytes().to_vec(),
        })
    }

    fn invalidate_token(&self, _grant: &salesforce_connector::OauthGrant) {}

    fn log(
        &self,
        _level: salesforce_connector::Level,
        _message: &str,
        _fields: &[(String, String)],
    ) {
    }
}

fn org() -> SalesforceOrg {
    SalesforceOrg {
        domain: DOMAIN.into(),
        token_endpoint: TOKEN_URL.into(),
        client_id: "3MVG9client".into(),
        client_secret: "client-secret".into(),
        username: "integration@acme.com".into(),
        password_and_token: "passwordTOKEN".into(),
    }
}

/// Median of `rounds` timings of `iterations` calls each, per call.
fn median_per_call(rounds: usize, iterations: usize, mut run: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                run();
            }
            start.elapsed() / iterations as u32
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

/// The native connector's config, converted from the host's: same keys, same values.
fn native_config(target: &TargetInstance) -> salesforce_connector::ConnectorConfig {
    let json = serde_json::to_value(target.connector_config()).unwrap();
    let entries = json["entries"].as_array().unwrap();
    salesforce_connector::ConnectorConfig {
        tenant: target.tenant().into(),
        target: target.target().into(),
        entries: entries
            .iter()
            .map(|entry| {
                let key = entry["key"].as_str().unwrap().to_string();
                let value = &entry["value"];
                let value = if let Some(text) = value.get("Text") {
                    salesforce_connector::ConfigValue::Text(text.as_str().unwrap().into())
                } else if let Some(flag) = value.get("Boolean") {
                    salesforce_connector::ConfigValue::Boolean(flag.as_bool().unwrap())
                } else if let Some(number) = value.get("Integer") {
                    salesforce_connector::ConfigValue::Integer(number.as_i64().unwrap())
                } else if let Some(secret) = value.get("Secret") {
                    salesforce_connector::ConfigValue::Secret(salesforce_connector::SecretRef {
                        key: secret["key"].as_str().unwrap().into(),
                    })
                } else {
                    let rows = value["ClaimMappings"].as_array().unwrap();
                    salesforce_connector::ConfigValue::ClaimMappings(
                        rows.iter()
                            .map(|row| salesforce_connector::ClaimMapping {
                                target_field: row["target_field"].as_str().unwrap().into(),
                                claim: row["claim"].as_str().map(Into::into),
                                default_value: row["default_value"].as_str().map(Into::into),
                            })
                            .collect(),
                    )
                };
                salesforce_connector::ConfigEntry { key, value }
            })
            .collect(),
    }
}

fn native_entity() -> salesforce_connector::Change {
    let claims = tutorial::samuel_claims();
    salesforce_connector::Change {
        operation: salesforce_connector::Operation::Create,
        entity: salesforce_connector::Entity::User(salesforce_connector::User {
            local_id: tutorial::TUTORIAL_USER_NAME.into(),
            name: tutorial::TUTORIAL_USER_NAME.into(),
            remote_id: None,
            claims: claims
                .iter()
                .map(|(name, value)| salesforce_connector::Claim {
                    uri: tutorial::claim(name),
                    values: vec![(*value).into()],
                })
                .collect(),
            changed_claims: vec![],
            previous_name: None,
        }),
    }
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let wasm = builtin_connectors::SALESFORCE.bytes;
    println!("component: builtin:salesforce ({} KiB)", wasm.len() / 1024);

    // Loading: compile (empty cache) vs. deserialize the cached artifact.
    let compile = median_per_call(5, 1, || {
        let dir = tempfile::tempdir().unwrap();
        let runtime = Runtime::new(RuntimeConfig::new(dir.path())).unwrap();
        let (_, report) = rt.block_on(runtime.load_bytes(wasm)).unwrap();
        assert!(!report.cache_hit());
    });
    {
        let runtime = Runtime::new(RuntimeConfig::new(cache.path())).unwrap();
        rt.block_on(runtime.load_bytes(wasm)).unwrap();
    }
    let cached = median_per_call(5, 1, || {
        let runtime = Runtime::new(RuntimeConfig::new(cache.path())).unwrap();
        let (_, report) = rt.block_on(runtime.load_bytes(wasm)).unwrap();
        assert!(report.cache_hit());
    });

    // One create call, sandboxed: fresh Store and instance per call.
    let entity = tutorial::user(
        Operation::Create,
        tutorial::TUTORIAL_USER_NAME,
        None,
        &tutorial::samuel_claims(),
        &[],
    );
    let fresh_target = sandboxed_target(&rt, cache.path(), 1);
    let sandboxed = median_per_call(7, 300, || {
        let outcome = rt
            .block_on(fresh_target.provision(black_box(&entity)))
            .unwrap();
        black_box(outcome);
    });
    let fresh_phases = phases(&rt, &fresh_target, &entity, 2000);

    // The same, with the target's instance kept warm between calls (reuse on).
    let warm_target = sandboxed_target(&rt, cache.path(), u32::MAX);
    let reused = median_per_call(7, 300, || {
        let outcome = rt
            .block_on(warm_target.provision(black_box(&entity)))
            .unwrap();
        black_box(outcome);
    });
    let warm_phases = phases(&rt, &warm_target, &entity, 2000);

    // The same logic, natively.
    let config = native_config(&fresh_target);
    let native_entity = native_entity();
    salesforce_connector::provision(&CannedHost, &config, &native_entity).unwrap();
    let native = median_per_call(7, 3000, || {
        let outcome = salesforce_connector::provision(
            &CannedHost,
            black_box(&config),
            black_box(&native_entity),
        )
        .unwrap();
        black_box(outcome);
    });

    println!(
        "one create call, native logic:          {:>10.1} µs",
        micros(native)
    );
    println!(
        "one create call, sandboxed (fresh inst): {:>10.1} µs",
        micros(sandboxed)
    );
    println!(
        "  sandbox / native:                      {:>10.1}x",
        ratio(sandboxed, native)
    );
    println!(
        "one create call, sandboxed (reused inst):{:>10.1} µs",
        micros(reused)
    );
    println!(
        "  reused sandbox / native:               {:>10.1}x",
        ratio(reused, native)
    );
    fresh_phases.print("fresh instance");
    warm_phases.print("reused instance");
    println!(
        "load component, compile:                 {:>10.1} ms",
        millis(compile)
    );
    println!(
        "load component, cached artifact:         {:>10.1} ms",
        millis(cached)
    );
    println!(
        "  compile / cached:                      {:>10.1}x",
        ratio(compile, cached)
    );
}

/// A runtime with the canned transport and the tutorial target on the Salesforce connector,
/// warmed by one call (which obtains the canned token). `calls_per_instance` 1 is a fresh
/// instance per call.
fn sandboxed_target(
    rt: &tokio::runtime::Runtime,
    cache: &std::path::Path,
    calls_per_instance: u32,
) -> TargetInstance {
    let mut config = RuntimeConfig::new(cache);
    config.calls_per_instance = calls_per_instance;
    let runtime = Runtime::builder(config)
        .transport(Arc::new(CannedTransport))
        .build()
        .unwrap();
    let (connector, _) = rt
        .block_on(runtime.load_bytes(builtin_connectors::SALESFORCE.bytes))
        .unwrap();
    let target = TargetInstance::new(
        &runtime,
        connector,
        tutorial::tutorial_target(&org(), EgressPolicy::default()),
    )
    .unwrap();
    let entity = tutorial::user(
        Operation::Create,
        tutorial::TUTORIAL_USER_NAME,
        None,
        &tutorial::samuel_claims(),
        &[],
    );
    rt.block_on(target.provision(&entity)).unwrap();
    target
}

/// Mean time per call in each phase the runtime reports ([`provisioner_runtime::CallStats`]).
struct Phases {
    setup: Duration,
    instantiation: Duration,
    call: Duration,
    host: Duration,
    teardown: Duration,
    calls: u32,
}

/// Runs `calls` creates and averages their phases.
fn phases(
    rt: &tokio::runtime::Runtime,
    target: &TargetInstance,
    entity: &provisioner_contract::Change,
    calls: u32,
) -> Phases {
    let mut sum = Phases {
        setup: Duration::ZERO,
        instantiation: Duration::ZERO,
        call: Duration::ZERO,
        host: Duration::ZERO,
        teardown: Duration::ZERO,
        calls,
    };
    for _ in 0..calls {
        rt.block_on(target.provision(entity)).unwrap();
        let stats = target.last_call_stats().unwrap();
        sum.setup += stats.setup;
        sum.instantiation += stats.instantiation;
        sum.host += stats.host_time;
        sum.call += stats
            .elapsed
            .saturating_sub(stats.setup + stats.instantiation + stats.host_time);
        sum.teardown += stats.teardown;
    }
    sum
}

impl Phases {
    fn print(&self, what: &str) {
        let n = self.calls;
        println!("phases, {what} (mean of {n} calls):");
        for (name, total) in [
            ("store + WASI context", self.setup),
            ("instantiation", self.instantiation),
            ("call: lower args, guest, lift result", self.call),
            ("host http import", self.host),
            ("teardown (store drop)", self.teardown),
        ] {
            println!("  {name:<38} {:>10.1} µs", micros(total / n));
        }
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
