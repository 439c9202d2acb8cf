//! Leases: a run's claim on what it runs (an import, a Logs import task) expires unless renewed,
//! so a run left behind by a process that died is taken over; a heartbeat thread renews it
//! while the run works.

use crate::clock::wall_ms;
use crate::EngineError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

/// Runs `body` while a heartbeat renews the lease five times per `lease`, calling `renew` with
/// the new expiry (wall-clock ms); a renewal refused (the work was stopped or taken over)
/// sets `stop`.
pub(crate) fn with_heartbeat<T>(
    lease: Duration,
    stop: &AtomicBool,
    renew: impl Fn(i64) -> bool + Sync,
    body: impl FnOnce() -> T,
) -> Result<T, EngineError> {
    let (done_tx, done_rx) = channel::<()>();
    std::thread::scope(|scope| {
        let renew = &renew;
        let heartbeat = move || loop {
            match done_rx.recv_timeout(lease / 5) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            if !renew(wall_ms() + lease.as_millis() as i64) {
                stop.store(true, Ordering::SeqCst);
            }
        };
        std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn_scoped(scope, heartbeat)
            .map_err(|e| EngineError::Run(e.to_string()))?;
        let out = body();
        drop(done_tx);
        Ok(out)
    })
}
