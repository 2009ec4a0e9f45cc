//! Observability for tests: call counters and a bounded log of every request.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// Counts of what the emulator has been asked to do since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Token requests by `grant_type` (`"(missing)"` when absent), then by outcome
    /// (`"success"` or the OAuth `error` value).
    pub token_requests: BTreeMap<String, BTreeMap<String, u64>>,
    /// Authenticated REST calls counted against the API allocation.
    pub api_calls: u64,
    /// REST calls refused for a missing, bad or expired token.
    pub unauthenticated_calls: u64,
    /// REST calls refused because the allocation was spent.
    pub limit_exceeded_calls: u64,
    /// Authenticated REST calls by operation (`create`, `update`, `get`, `query`, …).
    pub by_operation: BTreeMap<String, u64>,
    /// Every non-control request by HTTP method.
    pub by_method: BTreeMap<String, u64>,
    /// Every non-control request by `"METHOD /path"` (no query string).
    pub by_path: BTreeMap<String, u64>,
    /// `DELETE` (and `PUT`) attempts on User records.
    pub delete_attempts: u64,
    /// Paths of those attempts, oldest first.
    pub delete_attempt_paths: Vec<String>,
    /// Faults that fired.
    pub faults_fired: u64,
}

impl Counters {
    /// Records a token request outcome.
    pub fn token(&mut self, grant: &str, outcome: &str) {
        *self
            .token_requests
            .entry(grant.to_string())
            .or_default()
            .entry(outcome.to_string())
            .or_default() += 1;
    }

    /// Sum of token requests with the given grant and outcome.
    pub fn token_count(&self, grant: &str, outcome: &str) -> u64 {
        self.token_requests
            .get(grant)
            .and_then(|m| m.get(outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Number of authenticated calls of an operation (`"create"`, `"update"`, …).
    pub fn operation(&self, op: &str) -> u64 {
        self.by_operation.get(op).copied().unwrap_or(0)
    }
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestLogEntry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Response status; 0 when the connection was reset without a response.
    pub status: u16,
    /// Epoch milliseconds when the request arrived.
    pub at_ms: u64,
    /// How long the emulator took to answer, in milliseconds.
    pub duration_ms: u64,
}

/// A bounded log of requests (control API calls excluded).
#[derive(Debug, Clone)]
pub struct RequestLog {
    entries: VecDeque<RequestLogEntry>,
    capacity: usize,
    next_seq: u64,
}

impl RequestLog {
    /// An empty log keeping at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            next_seq: 1,
        }
    }

    /// Appends an entry (its `seq` is assigned here), dropping the oldest when full.
    pub fn push(&mut self, mut entry: RequestLogEntry) {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> Vec<RequestLogEntry> {
        self.entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_bounded() {
        let mut log = RequestLog::new(2);
        for i in 0..3 {
            log.push(RequestLogEntry {
                seq: 0,
                method: "GET".into(),
                path: format!("/{i}"),
                query: None,
                status: 200,
                at_ms: 0,
                duration_ms: 0,
            });
        }
        let e = log.entries();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].path, "/1");
        assert_eq!(e[1].seq, 3);
    }
}
