//! A memory budget: bytes that files in flight (read, inflated, parsed, waiting for the writer)
//! may hold together. Reservations are taken in arrival order and given back when dropped.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A number of bytes shared by every file in flight.
#[derive(Debug)]
pub struct Budget {
    total: u64,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    used: u64,
    /// Tickets of the reservations waiting, first come first served.
    queue: VecDeque<u64>,
    next_ticket: u64,
    /// The most ever held at once (for tests and `bench`).
    peak: u64,
}

/// Bytes of a [`Budget`] held until dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    bytes: u64,
}

impl Budget {
    pub fn new(total: u64) -> Arc<Budget> {
        Arc::new(Budget {
            total: total.max(1),
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        })
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The most ever reserved at once.
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    /// Bytes reserved now.
    pub fn used(&self) -> u64 {
        self.lock().used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves `bytes` (at most the whole budget), waiting in line until they are free;
    /// `None` if `stop` is set meanwhile. A caller must hold no other reservation while it
    /// waits, so that waiting never holds up the reservations that would free the bytes.
    pub fn reserve(self: &Arc<Self>, bytes: u64, stop: &AtomicBool) -> Option<Reservation> {
        let bytes = bytes.min(self.total);
        let mut st = self.lock();
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.queue.push_back(ticket);
        loop {
            if st.queue.front() == Some(&ticket) && st.used + bytes <= self.total {
                st.queue.pop_front();
                st.used += bytes;
                st.peak = st.peak.max(st.used);
                // The next in line may fit too.
                self.freed.notify_all();
                return Some(Reservation {
                    budget: self.clone(),
                    bytes,
                });
            }
            if stop.load(Ordering::SeqCst) {
                st.queue.retain(|&t| t != ticket);
                self.freed.notify_all();
                return None;
            }
            st = self
                .freed
                .wait_timeout(st, Duration::from_millis(20))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Reserves `bytes` if they are free now and nobody waits.
    pub fn try_reserve(self: &Arc<Self>, bytes: u64) -> Option<Reservation> {
        let bytes = bytes.min(self.total);
        let mut st = self.lock();
        if st.queue.is_empty() && st.used + bytes <= self.total {
            st.used += bytes;
            st.peak = st.peak.max(st.used);
            return Some(Reservation {
                budget: self.clone(),
                bytes,
            });
        }
        None
    }

    fn give_back(&self, bytes: u64) {
        let mut st = self.lock();
        st.used -= bytes;
        drop(st);
        self.freed.notify_all();
    }
}

impl Reservation {
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Gives back what is reserved beyond `bytes`.
    pub fn shrink_to(&mut self, bytes: u64) {
        if bytes < self.bytes {
            self.budget.give_back(self.bytes - bytes);
            self.bytes = bytes;
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes > 0 {
            self.budget.give_back(self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_wait_in_line_and_come_back() {
        let b = Budget::new(100);
        let stop = AtomicBool::new(false);
        let mut a = b.reserve(60, &stop).unwrap();
        assert!(b.try_reserve(50).is_none());
        let c = b.try_reserve(40).unwrap();
        assert_eq!(b.used(), 100);
        a.shrink_to(10);
        assert_eq!(b.used(), 50);
        drop(c);
        drop(a);
        assert_eq!((b.used(), b.peak()), (0, 100));
        // A request larger than the budget takes the whole budget.
        assert_eq!(b.reserve(1000, &stop).unwrap().bytes(), 100);
        // A waiter gives up when stopped.
        let held = b.reserve(100, &stop).unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| b.reserve(1, &stop).is_none());
            stop.store(true, Ordering::SeqCst);
            assert!(waiter.join().unwrap());
        });
        drop(held);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn the_first_in_line_is_served_first() {
        let b = Budget::new(100);
        let stop = AtomicBool::new(false);
        let held = b.reserve(90, &stop).unwrap();
        std::thread::scope(|s| {
            let big = s.spawn(|| b.reserve(100, &stop).map(|r| r.bytes()));
            // Wait until the big request is in line; then small ones must not pass it.
            while b.lock().queue.is_empty() {
                std::thread::yield_now();
            }
            assert!(b.try_reserve(5).is_none(), "nobody overtakes the line");
            drop(held);
            assert_eq!(big.join().unwrap(), Some(100));
        });
    }
}
