//! The retry decision: what a failed call means for its job and its target.
//!
//! The decision comes from the typed error alone, never from its message. A connector's
//! retry-after hint is untrusted: it is raised to a floor, and the rate-limited waiting a job
//! gets without spending an attempt is bounded by a budget ([`RateLimitPolicy`]).
//!
//! A target that looks down (its last [`CIRCUIT_FAILURES`] calls all failed with connection
//! failures, timeouts or 5xx answers: [`is_outage`]) opens its circuit: it is paused for
//! [`circuit_cooldown_ms`], the failing jobs keep their attempts, and when the cooldown ends one
//! job probes it. Every timed pause ends that way; once a probe gets through, the target's
//! allowed concurrency grows from one ([`recovery_concurrency`]).

use rand::Rng;

use crate::store::{JobError, OutboundSettings};
use provisioner_contract::{ErrorDetail, ProvisionError};

use super::connector::CallFailure;

/// What to do after a failed call.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Run the job again later.
    Retry {
        /// Delay before the next run; none means exponential backoff.
        delay_ms: Option<i64>,
        /// Whether the failure counts against the job's attempt budget.
        burn: bool,
        /// Whether a write may have been applied remotely.
        outcome_unknown: bool,
        /// Milliseconds to add to the job's free rate-limited waiting (0 unless the retry is
        /// a rate-limited one within the budget).
        charge_ms: i64,
    },
    /// Pause the whole target; the job waits, its attempts untouched.
    PauseTarget {
        /// How long the pause lasts; none means until an operator resumes the target.
        for_ms: Option<i64>,
        /// Why, for operators.
        reason: String,
    },
    /// Give up: the job becomes a dead letter.
    Dead,
}

/// How far a connector's rate-limit hints are trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitPolicy {
    /// The shortest wait after a rate-limited or quota answer, whatever its retry-after says.
    pub retry_after_floor_ms: i64,
    /// The total rate-limited waiting one job gets without spending attempts; past it, every
    /// rate-limited answer spends an attempt, so the job ends under its attempt budget.
    pub budget_ms: i64,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        Self {
            retry_after_floor_ms: 1_000,
            budget_ms: 15 * 60 * 1_000,
        }
    }
}

/// Decides what a failure means. `write` is true for a call that may create remote state
/// whose outcome matters (a create), so that sandbox failures count as outcome-unknown.
/// `rate_limited_ms` is the free rate-limited waiting the job has had so far.
///
/// A rate-limited answer waits for its hint (or the target's backoff base without one),
/// raised to the policy's floor; it spends no attempt while the job's free waiting stays
/// within the policy's budget, and spends one like any failure after that.
///
/// A quota without a reset hint pauses the target for the target's backoff cap. Refused
/// credentials pause the target too (its reason says why, for operators) and are probed again
/// after the backoff cap, so a fixed secret or a transient identity-provider failure heals
/// without an operator; an operator can resume sooner.
pub fn decide(
    failure: &CallFailure,
    write: bool,
    settings: &OutboundSettings,
    rate_limits: &RateLimitPolicy,
    rate_limited_ms: i64,
) -> Decision {
    match failure {
        CallFailure::Sandbox { .. } => Decision::Retry {
            delay_ms: None,
            burn: true,
            outcome_unknown: write,
            charge_ms: 0,
        },
        CallFailure::Connector(error) => match error {
            ProvisionError::Transient(t) => Decision::Retry {
                delay_ms: None,
                burn: true,
                outcome_unknown: write && t.outcome_unknown,
                charge_ms: 0,
            },
            ProvisionError::RateLimited(r) => {
                let delay = r
                    .retry_after_ms
                    .map(saturating_ms)
                    .unwrap_or(settings.backoff_base_ms)
                    .max(rate_limits.retry_after_floor_ms);
                let free = rate_limited_ms.saturating_add(delay) <= rate_limits.budget_ms;
                Decision::Retry {
                    delay_ms: Some(delay),
                    burn: !free,
                    outcome_unknown: false,
                    charge_ms: if free { delay } else { 0 },
                }
            }
            ProvisionError::QuotaExhausted(r) => Decision::PauseTarget {
                for_ms: Some(
                    r.retry_after_ms
                        .map(saturating_ms)
                        .unwrap_or(settings.backoff_cap_ms)
                        .max(rate_limits.retry_after_floor_ms),
                ),
                reason: format!("quota exhausted: {}", describe(&r.detail)),
            },
            ProvisionError::AuthFailed(detail) => Decision::PauseTarget {
                for_ms: Some(settings.backoff_cap_ms),
                reason: format!("authentication failed: {}", describe(detail)),
            },
            ProvisionError::Conflict(_)
            | ProvisionError::InvalidData(_)
            | ProvisionError::NotFound(_)
            | ProvisionError::Unsupported(_)
            | ProvisionError::Permanent(_) => Decision::Dead,
        },
    }
}

/// Consecutive outage failures of a target's calls (see [`is_outage`]) that open its circuit.
pub const CIRCUIT_FAILURES: i64 = 5;

/// The first cooldown of an opened circuit, in milliseconds; doubled on each opening in a row.
pub const CIRCUIT_COOLDOWN_BASE_MS: i64 = 5_000;

/// The longest cooldown of an opened circuit, in milliseconds.
pub const CIRCUIT_COOLDOWN_CAP_MS: i64 = 300_000;

/// After a target recovers, its allowed concurrency doubles every this many milliseconds.
pub const RECOVERY_STEP_MS: i64 = 1_000;

/// The stored kinds of the failures that count towards opening a circuit.
pub const OUTAGE_KINDS: [&str; 2] = ["transient", "sandbox_timeout"];

/// Whether a failure says the target may be down rather than that this job is wrong: a
/// connection failure, a 5xx answer (both `transient` in the shared status mapping) or a call
/// that did not answer in time.
pub fn is_outage(failure: &CallFailure) -> bool {
    OUTAGE_KINDS.contains(&failure_kind(failure))
}

/// The cooldown of a circuit opened for the `opens`-th time in a row (1 for the first): the
/// base doubled per opening, capped.
pub fn circuit_cooldown_ms(opens: i64) -> i64 {
    let exponent = (opens.max(1) - 1).min(30) as u32;
    CIRCUIT_COOLDOWN_BASE_MS
        .saturating_mul(1_i64 << exponent)
        .min(CIRCUIT_COOLDOWN_CAP_MS)
}

/// The concurrency a target may use `since_ms` after it recovered: 1, then doubling every
/// [`RECOVERY_STEP_MS`] (the caller caps it at the target's own cap).
pub fn recovery_concurrency(since_ms: i64) -> i64 {
    let steps = (since_ms.max(0) / RECOVERY_STEP_MS).min(30) as u32;
    1_i64 << steps
}

fn saturating_ms(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX / 4)
}

fn describe(detail: &ErrorDetail) -> String {
    match &detail.target_code {
        Some(code) => format!("{code}: {}", detail.message),
        None => detail.message.clone(),
    }
}

/// The delay before retry number `attempt` (1 for the first retry): the base doubled per
/// attempt, capped, with "equal jitter" (a uniformly random point in the upper half).
pub fn backoff_ms(settings: &OutboundSettings, attempt: i64) -> i64 {
    let exponent = (attempt.max(1) - 1).min(40) as u32;
    let ceiling = settings
        .backoff_base_ms
        .saturating_mul(1_i64 << exponent)
        .min(settings.backoff_cap_ms)
        .max(0);
    if ceiling < 2 {
        return ceiling;
    }
    let half = ceiling / 2;
    half + rand::thread_rng().gen_range(0..=ceiling - half)
}

/// The stored name of a failure's case.
pub fn failure_kind(failure: &CallFailure) -> &'static str {
    match failure {
        CallFailure::Sandbox { kind, .. } => kind.as_str(),
        CallFailure::Connector(error) => match error {
            ProvisionError::Transient(_) => "transient",
            ProvisionError::RateLimited(_) => "rate_limited",
            ProvisionError::QuotaExhausted(_) => "quota_exhausted",
            ProvisionError::AuthFailed(_) => "auth_failed",
            ProvisionError::Conflict(_) => "conflict",
            ProvisionError::InvalidData(_) => "invalid_data",
            ProvisionError::NotFound(_) => "not_found",
            ProvisionError::Unsupported(_) => "unsupported",
            ProvisionError::Permanent(_) => "permanent",
        },
    }
}

/// The detail a connector gave with its error, if it gave one.
pub fn failure_detail(failure: &CallFailure) -> Option<&ErrorDetail> {
    match failure {
        CallFailure::Sandbox { .. } => None,
        CallFailure::Connector(error) => Some(error.detail()),
    }
}

/// The failure as recorded on the job: case, target code and message.
pub fn job_error(failure: &CallFailure) -> JobError {
    match failure_detail(failure) {
        Some(detail) => JobError {
            kind: failure_kind(failure).to_owned(),
            code: detail.target_code.clone(),
            message: detail.message.clone(),
        },
        None => JobError {
            kind: failure_kind(failure).to_owned(),
            code: None,
            message: failure.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::SandboxFailureKind;
    use provisioner_contract::{RateLimitError, TransientError};

    fn detail(code: &str) -> ErrorDetail {
        ErrorDetail {
            message: "m".into(),
            target_code: Some(code.into()),
            fields: vec![],
            http_status: None,
        }
    }

    #[test]
    fn decisions_follow_the_error_type() {
        let d = OutboundSettings::default();
        let r = RateLimitPolicy::default();
        let transient = CallFailure::Connector(ProvisionError::Transient(TransientError {
            detail: detail("UNABLE_TO_LOCK_ROW"),
            outcome_unknown: true,
        }));
        assert_eq!(
            decide(&transient, true, &d, &r, 0),
            Decision::Retry {
                delay_ms: None,
                burn: true,
                outcome_unknown: true,
                charge_ms: 0
            }
        );
        assert_eq!(
            decide(&transient, false, &d, &r, 0),
            Decision::Retry {
                delay_ms: None,
                burn: true,
                outcome_unknown: false,
                charge_ms: 0
            }
        );
        let limited = CallFailure::Connector(ProvisionError::RateLimited(RateLimitError {
            detail: detail("REQUEST_LIMIT_EXCEEDED"),
            retry_after_ms: Some(1500),
        }));
        assert_eq!(
            decide(&limited, true, &d, &r, 0),
            Decision::Retry {
                delay_ms: Some(1500),
                burn: false,
                outcome_unknown: false,
                charge_ms: 1500
            }
        );
        let quota = CallFailure::Connector(ProvisionError::QuotaExhausted(RateLimitError {
            detail: detail("REQUEST_LIMIT_EXCEEDED"),
            retry_after_ms: Some(60_000),
        }));
        assert!(matches!(
            decide(&quota, true, &d, &r, 0),
            Decision::PauseTarget {
                for_ms: Some(60_000),
                ..
            }
        ));
        let auth = CallFailure::Connector(ProvisionError::AuthFailed(detail("INVALID_SESSION_ID")));
        assert!(matches!(
            decide(&auth, true, &d, &r, 0),
            Decision::PauseTarget { for_ms: Some(ms), .. } if ms == d.backoff_cap_ms
        ));
        let invalid = CallFailure::Connector(ProvisionError::InvalidData(detail(
            "INVALID_CROSS_REFERENCE_KEY",
        )));
        assert_eq!(decide(&invalid, true, &d, &r, 0), Decision::Dead);
        let error = job_error(&invalid);
        assert_eq!(error.kind, "invalid_data");
        assert_eq!(error.code.as_deref(), Some("INVALID_CROSS_REFERENCE_KEY"));
        let trap = CallFailure::Sandbox {
            kind: SandboxFailureKind::Trap,
            message: "boom".into(),
        };
        assert_eq!(
            decide(&trap, true, &d, &r, 0),
            Decision::Retry {
                delay_ms: None,
                burn: true,
                outcome_unknown: true,
                charge_ms: 0
            }
        );
    }

    fn limited(retry_after_ms: Option<u64>) -> CallFailure {
        CallFailure::Connector(ProvisionError::RateLimited(RateLimitError {
            detail: detail("REQUEST_LIMIT_EXCEEDED"),
            retry_after_ms,
        }))
    }

    #[test]
    fn a_retry_after_below_the_floor_waits_the_floor() {
        let settings = OutboundSettings::default();
        let policy = RateLimitPolicy {
            retry_after_floor_ms: 1_000,
            budget_ms: 60_000,
        };
        for hint in [Some(0), Some(1), Some(999), None] {
            assert_eq!(
                decide(&limited(hint), false, &settings, &policy, 0),
                Decision::Retry {
                    delay_ms: Some(1_000),
                    burn: false,
                    outcome_unknown: false,
                    charge_ms: 1_000
                },
                "hint {hint:?}"
            );
        }
        let quota = CallFailure::Connector(ProvisionError::QuotaExhausted(RateLimitError {
            detail: detail("REQUEST_LIMIT_EXCEEDED"),
            retry_after_ms: Some(0),
        }));
        assert!(matches!(
            decide(&quota, false, &settings, &policy, 0),
            Decision::PauseTarget {
                for_ms: Some(1_000),
                ..
            }
        ));
    }

    #[test]
    fn rate_limited_waiting_past_the_budget_spends_attempts() {
        let settings = OutboundSettings::default();
        let policy = RateLimitPolicy {
            retry_after_floor_ms: 1_000,
            budget_ms: 10_000,
        };
        // Exactly reaching the budget is still free.
        assert!(matches!(
            decide(&limited(Some(4_000)), false, &settings, &policy, 6_000),
            Decision::Retry {
                burn: false,
                charge_ms: 4_000,
                ..
            }
        ));
        // One millisecond past it spends an attempt and charges nothing more.
        assert_eq!(
            decide(&limited(Some(4_001)), false, &settings, &policy, 6_000),
            Decision::Retry {
                delay_ms: Some(4_001),
                burn: true,
                outcome_unknown: false,
                charge_ms: 0
            }
        );
        // A hint larger than the whole budget spends an attempt at once.
        assert!(matches!(
            decide(&limited(Some(u64::MAX)), false, &settings, &policy, 0),
            Decision::Retry { burn: true, .. }
        ));
        // Walking a job through zero-hint answers: free retries are bounded by budget / floor.
        let mut spent = 0;
        let mut free = 0;
        while let Decision::Retry {
            burn: false,
            charge_ms,
            ..
        } = decide(&limited(Some(0)), false, &settings, &policy, spent)
        {
            spent += charge_ms;
            free += 1;
            assert!(free <= 10, "free rate-limited retries must be bounded");
        }
        assert_eq!(free, 10);
        assert_eq!(spent, 10_000);
    }

    #[test]
    fn outages_are_connection_failures_timeouts_and_5xx_only() {
        let transient = CallFailure::Connector(ProvisionError::Transient(TransientError {
            detail: detail("HTTP_503"),
            outcome_unknown: false,
        }));
        assert!(is_outage(&transient));
        let timeout = CallFailure::Sandbox {
            kind: SandboxFailureKind::Timeout,
            message: "no answer".into(),
        };
        assert!(is_outage(&timeout));
        let trap = CallFailure::Sandbox {
            kind: SandboxFailureKind::Trap,
            message: "boom".into(),
        };
        assert!(!is_outage(&trap));
        assert!(!is_outage(&limited(Some(10))));
        let auth = CallFailure::Connector(ProvisionError::AuthFailed(detail("INVALID_SESSION_ID")));
        assert!(!is_outage(&auth));
    }

    #[test]
    fn circuit_cooldowns_double_to_five_minutes_and_recovery_doubles_per_step() {
        let cooldowns: Vec<i64> = (1..=9).map(circuit_cooldown_ms).collect();
        assert_eq!(
            cooldowns,
            [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]
        );
        assert_eq!(circuit_cooldown_ms(0), 5_000);
        assert_eq!(circuit_cooldown_ms(i64::MAX), 300_000);
        let ramp: Vec<i64> = [0, 999, 1_000, 2_000, 3_500, -5]
            .into_iter()
            .map(recovery_concurrency)
            .collect();
        assert_eq!(ramp, [1, 1, 2, 4, 8, 1]);
        assert_eq!(recovery_concurrency(i64::MAX), 1 << 30);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let settings = OutboundSettings {
            backoff_base_ms: 100,
            backoff_cap_ms: 1_000,
            ..OutboundSettings::default()
        };
        for _ in 0..50 {
            let first = backoff_ms(&settings, 1);
            assert!((50..=100).contains(&first), "{first}");
            let third = backoff_ms(&settings, 3);
            assert!((200..=400).contains(&third), "{third}");
            let late = backoff_ms(&settings, 30);
            assert!((500..=1_000).contains(&late), "{late}");
        }
    }
}
