//! The dispatcher's notion of now: the system clock, or one a test moves forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::store::now_ms;

/// Epoch milliseconds as a dispatcher sees them: the system clock plus an offset that only
/// [`Clock::advance`] moves, so that a test can let minutes of an outage pass at once. Cheap to
/// clone; clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, in epoch milliseconds.
    pub fn now(&self) -> i64 {
        now_ms() + self.offset.load(Ordering::SeqCst)
    }

    /// Moves this clock and its clones `ms` milliseconds forward.
    pub fn advance(&self, ms: i64) {
        self.offset.fetch_add(ms, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_moves_its_clones_too() {
        let clock = Clock::system();
        let clone = clock.clone();
        clock.advance(3_600_000);
        assert!(clone.now() >= now_ms() + 3_600_000);
        assert!(Clock::system().now() < now_ms() + 3_600_000);
    }
}
