//! Time: the engine's clock, injected so that tests (and `TRAILPORT_NOW`) can freeze it.

use std::sync::atomic::{AtomicI64, Ordering};

/// Where the engine reads "now" from, in milliseconds since the Unix epoch. Every timestamp
/// the engine records and every retention cut-off comes from it. (Import leases, which must
/// expire across processes, use the wall clock: see [`wall_ms`].)
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        wall_ms()
    }
}

/// A clock that stands still until it is moved.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(ms: i64) -> Self {
        FixedClock(AtomicI64::new(ms))
    }

    /// A clock at `rfc3339` (`2025-01-01T00:00:00Z`), or `None` if that is not a time.
    pub fn at(rfc3339: &str) -> Option<Self> {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .ok()
            .map(|t| FixedClock::new(t.timestamp_millis()))
    }

    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The wall clock, in milliseconds since the Unix epoch.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
