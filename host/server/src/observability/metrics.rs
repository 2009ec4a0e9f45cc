//! Prometheus metrics: what the engine reports as it works (counters and call-latency
//! histograms kept in memory since start) and the queue and target state read at each scrape,
//! written in the Prometheus text exposition format (version 0.0.4).
//!
//! Hand-written rather than through a metrics crate: the scrape-time gauges come straight from
//! one store read per scrape, the counters are a few maps behind one lock, and the text format
//! needs only the escaping below; nothing here needs a registry of metric objects.
//!
//! Every label is bounded by configuration, not by traffic: tenant, target, call, outcome, error
//! type, state, reason. No user or job id is ever a label.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use provisioner_contract::ProvisionError;
use provisioner_engine::connector::CallFailure;
use provisioner_engine::observe::{CallEvent, Observer};
use provisioner_engine::policy;
use provisioner_engine::store::{HoldReason, JobRecord, JobState, QueueGauge, TargetRecord};

/// The media type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the call-latency buckets, in seconds (`+Inf` follows).
pub const LATENCY_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Label values, in the order of the metric's label names.
type Labels = Vec<String>;

/// One histogram series: a count per bucket (not cumulative), the sum and the count.
#[derive(Clone, Debug, Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|le| seconds <= *le) {
            self.buckets[bucket] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// What the engine reported since start.
#[derive(Debug, Default)]
struct Counters {
    attempts: BTreeMap<Labels, u64>,
    latency: BTreeMap<Labels, Histogram>,
    sandbox_failures: BTreeMap<Labels, u64>,
    limit_hits: BTreeMap<Labels, u64>,
    held_back: BTreeMap<Labels, u64>,
    jobs_finished: BTreeMap<Labels, u64>,
}

/// The server's metrics: an engine [`Observer`] that counts, and the renderer of a scrape.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<Counters>,
}

impl Observer for Metrics {
    fn call_finished(&self, event: &CallEvent<'_>) {
        let (tenant, target) = (event.tenant.to_owned(), event.target.to_owned());
        let (outcome, error_type) = match event.failure {
            Some(failure) => ("error", policy::failure_kind(failure)),
            None => (event.outcome, "none"),
        };
        let mut counters = self.lock();
        *counters
            .attempts
            .entry(vec![
                tenant.clone(),
                target.clone(),
                event.call.to_owned(),
                outcome.to_owned(),
                error_type.to_owned(),
            ])
            .or_default() += 1;
        counters
            .latency
            .entry(vec![tenant.clone(), target.clone(), event.call.to_owned()])
            .or_default()
            .observe(event.duration.as_secs_f64());
        match event.failure {
            Some(CallFailure::Sandbox { kind, .. }) => {
                *counters
                    .sandbox_failures
                    .entry(vec![tenant, target, kind.as_str().to_owned()])
                    .or_default() += 1;
            }
            Some(CallFailure::Connector(
                error @ (ProvisionError::RateLimited(_) | ProvisionError::QuotaExhausted(_)),
            )) => {
                let kind = policy::failure_kind(&CallFailure::Connector(error.clone()));
                *counters
                    .limit_hits
                    .entry(vec![tenant, target, kind.to_owned()])
                    .or_default() += 1;
            }
            _ => {}
        }
    }

    fn job_finished(&self, job: &JobRecord, state: JobState) {
        let labels = vec![
            job.tenant.clone(),
            job.target.clone(),
            state.as_str().to_owned(),
        ];
        *self.lock().jobs_finished.entry(labels).or_default() += 1;
    }

    fn held_back(&self, tenant: &str, target: &str, reason: HoldReason) {
        let labels = vec![tenant.to_owned(), target.to_owned(), reason.as_str().into()];
        *self.lock().held_back.entry(labels).or_default() += 1;
    }
}

/// What a scrape reads besides the counters.
#[derive(Debug, Default)]
pub struct ScrapeState<'a> {
    /// Whether the store answered.
    pub store_up: bool,
    /// Each target's queue.
    pub queues: &'a [QueueGauge],
    /// The stored targets, each with whether its connector is prepared and ready.
    pub targets: &'a [(TargetRecord, bool)],
    /// Now, epoch milliseconds.
    pub now_ms: i64,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The scrape: every metric in the text exposition format.
    pub fn render(&self, state: &ScrapeState<'_>) -> String {
        let mut out = Encoder::default();
        self.render_queues(&mut out, state);
        self.render_targets(&mut out, state);
        let counters = self.lock();
        out.family(
            "provisioner_jobs_finished_total",
            "counter",
            "Jobs that reached a final state since the server started.",
            &["tenant", "target", "state"],
            &counters.jobs_finished,
        );
        out.family(
            "provisioner_attempts_total",
            "counter",
            "Connector calls since start, by call, outcome (ok, found, absent or error) and \
             error type (none, or the failure kind).",
            &["tenant", "target", "call", "outcome", "error_type"],
            &counters.attempts,
        );
        out.histograms(
            "provisioner_connector_call_duration_seconds",
            "How long connector calls took, by call.",
            &["tenant", "target", "call"],
            &counters.latency,
        );
        out.family(
            "provisioner_sandbox_failures_total",
            "counter",
            "Connector calls the sandbox failed (timeout, trap, memory, instantiation).",
            &["tenant", "target", "kind"],
            &counters.sandbox_failures,
        );
        out.family(
            "provisioner_target_limit_hits_total",
            "counter",
            "Calls a target refused for its rate limit or spent quota.",
            &["tenant", "target", "kind"],
            &counters.limit_hits,
        );
        out.family(
            "provisioner_claims_held_back_total",
            "counter",
            "Claims that left a target's ready jobs waiting for a concurrency cap or a tenant \
             quota (once per target and claim).",
            &["tenant", "target", "reason"],
            &counters.held_back,
        );
        out.text
    }

    fn render_queues(&self, out: &mut Encoder, state: &ScrapeState<'_>) {
        let up = BTreeMap::from([(Vec::new(), u64::from(state.store_up))]);
        out.family(
            "provisioner_store_up",
            "gauge",
            "Whether the store answered this scrape (1) or not (0).",
            &[],
            &up,
        );
        let mut open = BTreeMap::new();
        let mut dead = BTreeMap::new();
        let mut age = BTreeMap::new();
        for queue in state.queues {
            let key = |extra: Option<&str>| {
                let mut labels = vec![queue.tenant.clone(), queue.target.clone()];
                labels.extend(extra.map(str::to_owned));
                labels
            };
            open.insert(key(Some("ready")), queue.ready);
            open.insert(key(Some("blocked")), queue.blocked);
            open.insert(key(Some("running")), queue.running);
            dead.insert(key(None), queue.dead);
            let waited = queue
                .oldest_due_at
                .map_or(0, |due| (state.now_ms - due).max(0));
            age.insert(key(None), waited as f64 / 1000.0);
        }
        out.family(
            "provisioner_jobs_open",
            "gauge",
            "Unfinished jobs: ready (claimable when due), blocked (behind an earlier job of \
             their entity), running.",
            &["tenant", "target", "state"],
            &open,
        );
        out.family(
            "provisioner_dead_letters",
            "gauge",
            "Dead letters waiting for an operator to fix the cause and replay them.",
            &["tenant", "target"],
            &dead,
        );
        out.family(
            "provisioner_queue_oldest_ready_age_seconds",
            "gauge",
            "How long the ready job due first has been due (0 when none is due).",
            &["tenant", "target"],
            &age,
        );
    }

    fn render_targets(&self, out: &mut Encoder, state: &ScrapeState<'_>) {
        let mut circuit = BTreeMap::new();
        let mut ready = BTreeMap::new();
        for (target, connector_ready) in state.targets {
            let (tenant, name) = (&target.spec.tenant, &target.spec.name);
            let current = circuit_state(target, state.now_ms);
            for candidate in ["closed", "open", "half_open", "paused"] {
                let labels = vec![tenant.clone(), name.clone(), candidate.to_owned()];
                circuit.insert(labels, u64::from(candidate == current));
            }
            ready.insert(
                vec![tenant.clone(), name.clone()],
                u64::from(*connector_ready),
            );
        }
        out.family(
            "provisioner_target_circuit_state",
            "gauge",
            "Each target's availability: closed (calls flow), open (paused for a cooldown after \
             an outage, refused credentials or spent quota), half_open (probing with one job), \
             paused (until an operator resumes it); 1 for the current state.",
            &["tenant", "target", "state"],
            &circuit,
        );
        out.family(
            "provisioner_target_connector_ready",
            "gauge",
            "Whether the target's connector is prepared (compiled and configured) and ready.",
            &["tenant", "target"],
            &ready,
        );
    }
}

/// The circuit state of a target at `now`.
fn circuit_state(target: &TargetRecord, now: i64) -> &'static str {
    match (target.paused, target.paused_until) {
        (true, None) => "paused",
        (true, Some(until)) if until > now => "open",
        (true, Some(_)) => "half_open",
        (false, _) if target.probing => "half_open",
        (false, _) => "closed",
    }
}

/// A sample value the encoder writes.
trait Sample {
    fn write_to(&self, out: &mut String);
}

impl Sample for u64 {
    fn write_to(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Sample for i64 {
    fn write_to(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Sample for f64 {
    fn write_to(&self, out: &mut String) {
        if self.is_finite() {
            let _ = write!(out, "{self}");
        } else {
            out.push_str(if self.is_nan() {
                "NaN"
            } else if *self > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            });
        }
    }
}

/// Writes metric families in the text exposition format.
#[derive(Default)]
struct Encoder {
    text: String,
}

impl Encoder {
    /// `# HELP`, `# TYPE` and one sample per series.
    fn family<V: Sample>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        label_names: &[&str],
        series: &BTreeMap<Labels, V>,
    ) {
        self.header(name, kind, help);
        for (labels, value) in series {
            self.sample(name, label_names, labels, None, value);
        }
    }

    /// A histogram family: cumulative `_bucket` samples with `le`, then `_sum` and `_count`.
    fn histograms(
        &mut self,
        name: &str,
        help: &str,
        label_names: &[&str],
        series: &BTreeMap<Labels, Histogram>,
    ) {
        self.header(name, "histogram", help);
        let bucket = format!("{name}_bucket");
        for (labels, histogram) in series {
            let mut cumulative = 0;
            for (le, count) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                cumulative += count;
                let le = le.to_string();
                self.sample(&bucket, label_names, labels, Some(&le), &cumulative);
            }
            self.sample(&bucket, label_names, labels, Some("+Inf"), &histogram.count);
            self.sample(
                &format!("{name}_sum"),
                label_names,
                labels,
                None,
                &histogram.sum,
            );
            self.sample(
                &format!("{name}_count"),
                label_names,
                labels,
                None,
                &histogram.count,
            );
        }
    }

    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(
        &mut self,
        name: &str,
        label_names: &[&str],
        labels: &[String],
        le: Option<&str>,
        value: &dyn Sample,
    ) {
        self.text.push_str(name);
        let pairs = label_names
            .iter()
            .zip(labels)
            .map(|(name, value)| (*name, value.as_str()))
            .chain(le.map(|le| ("le", le)));
        let mut first = true;
        for (label, value) in pairs {
            self.text.push(if first { '{' } else { ',' });
            first = false;
            let _ = write!(self.text, "{label}=\"{}\"", escape_label(value));
        }
        if !first {
            self.text.push('}');
        }
        self.text.push(' ');
        value.write_to(&mut self.text);
        self.text.push('\n');
    }
}

/// A label value as the text format quotes it: backslash, double quote and line feed escaped.
fn escape_label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("x\ny"), "x\\ny");
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_the_count() {
        let mut series = BTreeMap::new();
        let mut histogram = Histogram::default();
        for seconds in [0.001, 0.2, 0.2, 120.0] {
            histogram.observe(seconds);
        }
        series.insert(vec!["t".to_owned()], histogram);
        let mut out = Encoder::default();
        out.histograms("h", "help", &["target"], &series);
        let lines: Vec<&str> = out.text.lines().collect();
        assert!(lines.contains(&r#"h_bucket{target="t",le="0.005"} 1"#));
        assert!(lines.contains(&r#"h_bucket{target="t",le="0.1"} 1"#));
        assert!(lines.contains(&r#"h_bucket{target="t",le="0.25"} 3"#));
        assert!(lines.contains(&r#"h_bucket{target="t",le="60"} 3"#));
        assert!(lines.contains(&r#"h_bucket{target="t",le="+Inf"} 4"#));
        assert!(lines.contains(&r#"h_count{target="t"} 4"#));
    }
}
