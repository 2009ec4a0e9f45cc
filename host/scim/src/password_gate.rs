//! [`PasswordGate`]: password verification that cannot be turned against the server.
//!
//! argon2 is slow and memory-hungry on purpose, which makes every Basic request a lever: without
//! bounds, a flood of them exhausts memory and CPU and starves every other client, and the
//! difference between "no such user" (instant) and "wrong password" (one argon2 run) tells an
//! attacker which user names exist. The gate bounds the lever:
//!
//! - at most [`GateLimits::verifiers`] verifications run at once (on as many threads of their
//!   own, each reusing one argon2 buffer, so their memory is fixed), and at
//!   most [`GateLimits::queue`] requests wait for one; beyond that a request is answered
//!   [`Verdict::Busy`] at once instead of queueing without end;
//! - a successful verification is remembered for [`GateLimits::cache_ttl`] (at most
//!   [`GateLimits::cache_entries`] of them), keyed by an HMAC of (user, password) under a
//!   per-process random key, so a client repeating its credentials costs one argon2 run a
//!   minute and the cache holds nothing a reader could use;
//! - after [`GateLimits::free_failures`] consecutive failures from one client address or for
//!   one user name, further attempts from it are refused without verification for a window
//!   that doubles with every further failure, up to [`GateLimits::max_backoff`];
//! - concurrent requests with the same credentials share one verification (a client opening
//!   many connections at once costs one argon2 run, not one each);
//! - an unknown user name costs the same as a known one: it is verified against a dummy hash
//!   made with the same parameters.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{OnceCell, Semaphore};

use crate::auth::hash_password;
use crate::verifier_pool::VerifierPool;

/// The bounds of a [`PasswordGate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateLimits {
    /// Verifications running at once (each holds argon2's memory, 19 MiB by default); by
    /// default half the CPUs, at least one.
    pub verifiers: usize,
    /// Requests waiting for a verifier; beyond this, [`Verdict::Busy`].
    pub queue: usize,
    /// How long a successful verification is remembered.
    pub cache_ttl: Duration,
    /// How many successful verifications are remembered at most.
    pub cache_entries: usize,
    /// Consecutive failures of one client address or user name before back-off starts.
    pub free_failures: u32,
    /// The first back-off window; each further failure doubles it.
    pub base_backoff: Duration,
    /// The longest back-off window.
    pub max_backoff: Duration,
    /// How many client addresses and user names with failures are tracked at most.
    pub tracked_failures: usize,
}

impl Default for GateLimits {
    fn default() -> Self {
        // Half the CPUs: a flood of password checks leaves the other half to every other
        // request.
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let verifiers = (cpus / 2).max(1);
        Self {
            verifiers,
            queue: verifiers * 8,
            cache_ttl: Duration::from_secs(60),
            cache_entries: 10_000,
            free_failures: 5,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            tracked_failures: 100_000,
        }
    }
}

/// What the gate says about a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password is right.
    Valid,
    /// The password is wrong, the user unknown, or the client is backing off.
    Invalid,
    /// Too many verifications are running and waiting; try again shortly.
    Busy,
}

/// Who a failure is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    Client(IpAddr),
    User(String),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// Bounded, cached and throttled password verification (see the module documentation).
pub struct PasswordGate {
    limits: GateLimits,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    key: [u8; 32],
    dummy_phc: String,
    pool: VerifierPool,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
    in_flight: Mutex<HashMap<[u8; 32], Arc<OnceCell<Verdict>>>>,
    failures: Mutex<HashMap<Subject, Failures>>,
}

impl std::fmt::Debug for PasswordGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordGate")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for PasswordGate {
    fn default() -> Self {
        Self::new(GateLimits::default())
    }
}

impl PasswordGate {
    /// A gate with `limits` (at least one verifier), a fresh random cache key and a fresh
    /// dummy hash.
    pub fn new(limits: GateLimits) -> Self {
        let verifiers = limits.verifiers.max(1);
        let dummy: [u8; 16] = rand::random();
        Self {
            limits: GateLimits {
                verifiers,
                ..limits
            },
            permits: Arc::new(Semaphore::new(verifiers)),
            waiting: AtomicUsize::new(0),
            key: rand::random(),
            dummy_phc: hash_password(&hex::encode(dummy)),
            pool: VerifierPool::new(verifiers),
            verified: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The gate's bounds.
    pub fn limits(&self) -> &GateLimits {
        &self.limits
    }

    /// Checks `password` for `user`, whose stored argon2 PHC string is `phc` (`None`: no such
    /// user, which is checked against the dummy hash and always fails), coming from `client`.
    pub async fn verify(
        &self,
        client: Option<IpAddr>,
        user: &str,
        password: &str,
        phc: Option<&str>,
    ) -> Verdict {
        let cache_key = self.cache_key(user, password);
        if phc.is_some() && self.remembered(&cache_key) {
            return Verdict::Valid;
        }
        let subjects = subjects(client, user);
        if self.backing_off(&subjects) {
            return Verdict::Invalid;
        }
        // One verification per distinct credentials at a time; the others await its verdict.
        let flight = lock(&self.in_flight)
            .entry(cache_key)
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        let verdict = *flight.get_or_init(|| self.check(password, phc)).await;
        {
            let mut in_flight = lock(&self.in_flight);
            if in_flight
                .get(&cache_key)
                .is_some_and(|f| Arc::ptr_eq(f, &flight))
            {
                in_flight.remove(&cache_key);
            }
        }
        match verdict {
            Verdict::Valid => {
                self.remember(cache_key);
                self.forgive(&subjects);
            }
            Verdict::Invalid => self.count_failure(subjects),
            Verdict::Busy => {}
        }
        verdict
    }

    /// One argon2 verification on the blocking pool, if a verifier is free or the queue has
    /// room.
    async fn check(&self, password: &str, phc: Option<&str>) -> Verdict {
        let Some(permit) = self.permit().await else {
            return Verdict::Busy;
        };
        let known = phc.is_some();
        let phc = phc.unwrap_or(&self.dummy_phc).to_owned();
        let password = password.to_owned();
        // argon2 is deliberately slow: off the async workers, and the permit goes with the
        // computation, so a client that hangs up does not free a verifier early.
        let ok = self.pool.verify(password, phc, permit).await;
        if ok && known {
            Verdict::Valid
        } else {
            Verdict::Invalid
        }
    }

    /// Forgets every remembered verification (e.g. after a password changed).
    pub fn forget_verified(&self) {
        lock(&self.verified).clear();
    }

    /// A verifier, waiting for one if the queue has room; `None` when it has none.
    async fn permit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Some(permit);
        }
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst);
        let permit = if queued < self.limits.queue {
            self.permits.clone().acquire_owned().await.ok()
        } else {
            None
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit
    }

    fn cache_key(&self, user: &str, password: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any size");
        mac.update(&(user.len() as u64).to_be_bytes());
        mac.update(user.as_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn remembered(&self, key: &[u8; 32]) -> bool {
        let mut verified = lock(&self.verified);
        match verified.get(key) {
            Some(expires) if *expires > Instant::now() => true,
            Some(_) => {
                verified.remove(key);
                false
            }
            None => false,
        }
    }

    fn remember(&self, key: [u8; 32]) {
        let now = Instant::now();
        let mut verified = lock(&self.verified);
        make_room(&mut verified, self.limits.cache_entries, |expires| {
            *expires <= now
        });
        verified.insert(key, now + self.limits.cache_ttl);
    }

    fn backing_off(&self, subjects: &[Subject]) -> bool {
        let now = Instant::now();
        let failures = lock(&self.failures);
        subjects.iter().any(|s| {
            failures
                .get(s)
                .and_then(|f| f.blocked_until)
                .is_some_and(|until| until > now)
        })
    }

    fn forgive(&self, subjects: &[Subject]) {
        let mut failures = lock(&self.failures);
        for s in subjects {
            failures.remove(s);
        }
    }

    fn count_failure(&self, subjects: Vec<Subject>) {
        let now = Instant::now();
        let limits = &self.limits;
        let mut failures = lock(&self.failures);
        // An entry idle for longer than the longest window is history.
        let stale = |f: &Failures| now.duration_since(f.last) > limits.max_backoff;
        make_room(&mut failures, limits.tracked_failures, stale);
        for s in subjects {
            let f = failures.entry(s).or_insert(Failures {
                count: 0,
                last: now,
                blocked_until: None,
            });
            if stale(f) {
                f.count = 0;
            }
            f.count = f.count.saturating_add(1);
            f.last = now;
            if f.count >= limits.free_failures {
                let doublings = (f.count - limits.free_failures).min(20);
                let window = limits
                    .base_backoff
                    .saturating_mul(1 << doublings)
                    .min(limits.max_backoff);
                f.blocked_until = Some(now + window);
            }
        }
    }
}

fn subjects(client: Option<IpAddr>, user: &str) -> Vec<Subject> {
    let mut subjects = vec![Subject::User(user.to_owned())];
    subjects.extend(client.map(Subject::Client));
    subjects
}

/// Keeps `map` below `capacity`: drops entries `expired` says are over, then, if still full,
/// arbitrary ones.
fn make_room<K: Eq + Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    capacity: usize,
    expired: impl Fn(&V) -> bool,
) {
    if map.len() < capacity {
        return;
    }
    map.retain(|_, v| !expired(v));
    while map.len() >= capacity.max(1) {
        let Some(k) = map.keys().next().cloned() else {
            break;
        };
        map.remove(&k);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHash;

    const IP_A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const IP_B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));

    fn gate(verifiers: usize, queue: usize, free_failures: u32) -> PasswordGate {
        PasswordGate::new(GateLimits {
            verifiers,
            queue,
            free_failures,
            base_backoff: Duration::from_secs(600),
            max_backoff: Duration::from_secs(3_600),
            ..GateLimits::default()
        })
    }

    #[tokio::test(flavor = "current_thread")]
    async fn verifications_beyond_the_verifiers_and_the_queue_are_busy() {
        let g = gate(1, 2, 100);
        let phc = hash_password("right");
        let v = |guess: &'static str| g.verify(IP_A, "u", guess, Some(&phc));
        let all = tokio::join!(v("a"), v("b"), v("c"), v("d"), v("e"), v("f"));
        let all = [all.0, all.1, all.2, all.3, all.4, all.5];
        let busy = all.iter().filter(|v| **v == Verdict::Busy).count();
        let invalid = all.iter().filter(|v| **v == Verdict::Invalid).count();
        assert_eq!((invalid, busy), (3, 3), "{all:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_checks_of_the_same_credentials_share_one_verification() {
        let g = gate(1, 0, 100);
        let phc = hash_password("right");
        let v = || g.verify(IP_A, "u", "right", Some(&phc));
        let all = tokio::join!(v(), v(), v(), v());
        assert_eq!(
            all,
            (
                Verdict::Valid,
                Verdict::Valid,
                Verdict::Valid,
                Verdict::Valid
            )
        );
        assert!(lock(&g.in_flight).is_empty());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn unknown_user_names_cost_a_verification_like_known_ones() {
        let g = gate(1, 0, 100);
        let phc = hash_password("right");
        // While an unknown name is being checked, the only verifier is taken.
        let (unknown, known) = tokio::join!(
            g.verify(IP_A, "nobody", "right", None),
            g.verify(IP_B, "u", "right", Some(&phc)),
        );
        assert_eq!((unknown, known), (Verdict::Invalid, Verdict::Busy));
        // The dummy hash has the parameters of real ones.
        let dummy = PasswordHash::new(&g.dummy_phc).unwrap();
        let real = PasswordHash::new(&phc).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.version, real.version);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn successful_verifications_are_remembered_under_a_keyed_hash() {
        let g = gate(1, 0, 100);
        let phc = hash_password("right");
        assert_eq!(
            g.verify(IP_A, "u", "right", Some(&phc)).await,
            Verdict::Valid
        );
        // Remembered: a stored hash that would fail every check is not consulted.
        assert_eq!(
            g.verify(IP_A, "u", "right", Some("not-a-hash")).await,
            Verdict::Valid
        );
        assert_eq!(
            g.verify(IP_A, "u", "other", Some("not-a-hash")).await,
            Verdict::Invalid
        );
        // A name that no longer exists is never let in from memory.
        assert_eq!(g.verify(IP_A, "u", "right", None).await, Verdict::Invalid);
        g.forget_verified();
        assert_eq!(
            g.verify(IP_A, "u", "right", Some("not-a-hash")).await,
            Verdict::Invalid
        );
        // The key is per process: another gate files the same credentials elsewhere, and the
        // key binds the split between user and password.
        let other = gate(1, 0, 100);
        assert_ne!(g.cache_key("u", "right"), other.cache_key("u", "right"));
        assert_ne!(g.cache_key("ab", "c"), g.cache_key("a", "bc"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn repeated_failures_back_off_without_verifying() {
        let g = gate(1, 0, 3);
        let phc = hash_password("right");
        // Remembered before the attack: this client keeps working.
        assert_eq!(
            g.verify(IP_B, "u", "right", Some(&phc)).await,
            Verdict::Valid
        );
        for _ in 0..3 {
            assert_eq!(
                g.verify(IP_A, "u", "guess", Some(&phc)).await,
                Verdict::Invalid
            );
        }
        assert_eq!(
            g.verify(IP_B, "u", "right", Some(&phc)).await,
            Verdict::Valid
        );
        // Blocked: the right password from the blocked address, for another user, is refused
        // without a verification (a verification would have let it in).
        let phc_v = hash_password("v-pass");
        assert_eq!(
            g.verify(IP_A, "v", "v-pass", Some(&phc_v)).await,
            Verdict::Invalid
        );
        // The user name is blocked too, except for credentials verified before.
        g.forget_verified();
        assert_eq!(
            g.verify(None, "u", "right", Some(&phc)).await,
            Verdict::Invalid
        );
        // Another user from another address is not affected.
        assert_eq!(
            g.verify(IP_B, "v", "v-pass", Some(&phc_v)).await,
            Verdict::Valid
        );
    }

    #[test]
    fn back_off_windows_double_up_to_the_cap() {
        let g = PasswordGate::new(GateLimits {
            free_failures: 2,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            ..GateLimits::default()
        });
        let mut windows = Vec::new();
        for _ in 0..6 {
            g.count_failure(vec![Subject::User("u".into())]);
            let f = lock(&g.failures)[&Subject::User("u".into())];
            windows.push(f.blocked_until.map(|until| until - f.last));
        }
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(windows, [None, secs(1), secs(2), secs(4), secs(5), secs(5)]);
    }

    #[test]
    fn tables_stay_within_their_bounds() {
        let mut map: HashMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
        make_room(&mut map, 10, |v| *v < 3);
        assert_eq!(map.len(), 7);
        make_room(&mut map, 5, |_| false);
        assert_eq!(map.len(), 4);
    }
}
