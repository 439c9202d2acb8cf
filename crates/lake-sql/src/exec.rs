//! Running a [`Plan`]: a read-only SQLite connection on the store's database with Lake's
//! functions registered, rows rendered as GetQueryResults cells.

use crate::plan::{finish, Plan, RecordPath};
use crate::record::Record;
use crate::render::render;
use crate::types::Source;
use event_store::Store;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How a run ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// `interrupt` said stop.
    #[error("interrupted")]
    Interrupted,
    /// A run-time error (a failing CAST, a missing map key, …): the query FAILED.
    #[error("{0}")]
    Failed(String),
}

/// What a run read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Events whose narrow index row was examined.
    pub events_scanned: u64,
    /// The bytes of those events' records.
    pub bytes_scanned: u64,
    /// Events whose record was read and parsed.
    pub records_read: u64,
}

/// Memory SQLite may use for sorting and grouping before it spills to temporary files.
const SORT_CACHE_KIB: i64 = 16 * 1024;

/// Runs `plan` over the database at `db`, handing each result row's cells (None for NULL) to
/// `on_row`. `interrupt` is polled while SQLite works, with the number of events scanned so far;
/// when it returns true the run stops with
/// [`RunError::Interrupted`]. `now_ms` is `current_timestamp`.
pub fn run(
    db: &Path,
    plan: &Plan,
    now_ms: i64,
    interrupt: impl Fn(u64) -> bool + Send + 'static,
    mut on_row: impl FnMut(Vec<Option<String>>) -> Result<(), String>,
) -> Result<ScanStats, RunError> {
    let fail = |e: rusqlite::Error| RunError::Failed(message(&e));
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(fail)?;
    conn.pragma_update(None, "cache_size", -SORT_CACHE_KIB)
        .map_err(fail)?;
    conn.pragma_update(None, "temp_store", "FILE")
        .map_err(fail)?;
    let reader = Store::open_read_only(db).map_err(|e| RunError::Failed(e.to_string()))?;
    let stats = Arc::new(Counters::default());
    register(&conn, db, now_ms, reader, plan.paths.clone(), stats.clone()).map_err(fail)?;
    let scanned = stats.clone();
    conn.progress_handler(
        2000,
        Some(move || interrupt(scanned.events.load(Ordering::Relaxed))),
    );
    let sql = finish(plan);
    let mut stmt = conn.prepare(&sql).map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    let n = plan.columns.len();
    loop {
        let row = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) if is_interrupt(&e) => return Err(RunError::Interrupted),
            Err(e) => return Err(fail(e)),
        };
        let mut cells = Vec::with_capacity(n);
        for (i, (_, ty)) in plan.columns.iter().enumerate() {
            let v = row.get_ref(i).map_err(fail)?;
            cells.push(render(v, ty));
        }
        on_row(cells).map_err(RunError::Failed)?;
    }
    Ok(ScanStats {
        events_scanned: stats.events.load(Ordering::Relaxed),
        bytes_scanned: stats.bytes.load(Ordering::Relaxed),
        records_read: stats.records.load(Ordering::Relaxed),
    })
}

/// The query plan SQLite chose (for tests and `--explain`).
pub fn explain(db: &Path, plan: &Plan) -> Result<Vec<String>, RunError> {
    let fail = |e: rusqlite::Error| RunError::Failed(message(&e));
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(fail)?;
    let reader = Store::open_read_only(db).map_err(|e| RunError::Failed(e.to_string()))?;
    register(&conn, db, 0, reader, plan.paths.clone(), Arc::default()).map_err(fail)?;
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", finish(plan)))
        .map_err(fail)?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(3))
        .map_err(fail)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(fail)
}

fn is_interrupt(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::OperationInterrupted)
}

/// The message of a run-time error, without SQLite's wrapping.
fn message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::UserFunctionError(inner) => inner.to_string(),
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    }
}

#[derive(Default)]
struct Counters {
    events: AtomicU64,
    bytes: AtomicU64,
    records: AtomicU64,
}

/// The record of the event last asked for, parsed once for all its columns, and the log files
/// its records come from.
struct RowCache {
    texts: Texts,
    num: i64,
    record: Option<Record>,
}

/// Log files at most this large (compressed) are inflated ahead, on a second thread.
const READ_AHEAD_MAX_GZ: i64 = 8 << 20;

/// The inflated log files a query reads, least recently used first, within the store's
/// [`TEXT_CACHE_BYTES`](event_store::TEXT_CACHE_BYTES). A scan reads the files of a store
/// mostly in order, so while the query works on one file a helper thread inflates the next:
/// the second core inflates while the first parses.
struct Texts {
    reader: Store,
    files: event_store::TextCache,
    ahead: Option<ReadAhead>,
}

/// Files the read-ahead thread inflated, waiting to be taken.
type Shelf = Arc<std::sync::Mutex<Vec<(i64, Arc<Vec<u8>>)>>>;

struct ReadAhead {
    asked: std::sync::mpsc::SyncSender<i64>,
    ready: Shelf,
    /// The file asked for last (each is asked for once).
    last: i64,
}

impl Texts {
    fn new(db: &Path, reader: Store) -> Texts {
        // A second read-only connection of its own inflates ahead; without one, no read-ahead.
        let ahead = Store::open_read_only(db).ok().map(|store| {
            let (asked, wanted) = std::sync::mpsc::sync_channel::<i64>(1);
            let ready: Shelf = Arc::default();
            let shelf = ready.clone();
            std::thread::Builder::new()
                .name("query-read-ahead".into())
                .spawn(move || {
                    for num in wanted {
                        let small = store
                            .log_file_gz_len(num)
                            .is_ok_and(|n| n.is_some_and(|n| n <= READ_AHEAD_MAX_GZ));
                        let text = if small {
                            store.log_file_text(num).ok()
                        } else {
                            None
                        };
                        let mut shelf = shelf.lock().unwrap_or_else(|p| p.into_inner());
                        if let Some(text) = text {
                            shelf.push((num, Arc::new(text)));
                        }
                        // Never more than two files wait on the shelf.
                        while shelf.len() > 2 {
                            shelf.remove(0);
                        }
                    }
                })
                .expect("spawn the read-ahead thread");
            ReadAhead {
                asked,
                ready,
                last: i64::MIN,
            }
        });
        Texts {
            reader,
            files: event_store::TextCache::default(),
            ahead,
        }
    }

    fn text(&mut self, log_file: i64) -> Result<Arc<Vec<u8>>, event_store::StoreError> {
        if let Some(text) = self.files.get(log_file) {
            return Ok(text);
        }
        let mut text = None;
        if let Some(a) = &mut self.ahead {
            let mut shelf = a.ready.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(i) = shelf.iter().position(|(n, _)| *n == log_file) {
                text = Some(shelf.remove(i).1);
            }
            drop(shelf);
            // Ask for the next file once; never wait for the helper.
            let next = log_file + 1;
            if next > a.last {
                a.last = next;
                let _ = a.asked.try_send(next);
            }
        }
        let text = match text {
            Some(t) => t,
            None => Arc::new(self.reader.log_file_text(log_file)?),
        };
        self.files.insert(log_file, text.clone());
        Ok(text)
    }
}

fn register(
    conn: &Connection,
    db: &Path,
    now_ms: i64,
    reader: Store,
    paths: Vec<RecordPath>,
    stats: Arc<Counters>,
) -> rusqlite::Result<()> {
    crate::functions::register(conn, now_ms)?;
    let pure = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let s = stats.clone();
    // lk_scan(eds_num, wanted, len): whether an event's store is the one named, counting the
    // events of the named stores whose index rows the scan reached. It is the store filter
    // itself: a separate `eds_num = N` would let SQLite propagate the constant into the call
    // and count every event.
    conn.create_scalar_function("lk_scan", 3, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let in_store = ctx.get::<i64>(0)? == ctx.get::<i64>(1)?;
        if in_store {
            let len: i64 = ctx.get(2)?;
            s.events.fetch_add(1, Ordering::Relaxed);
            s.bytes.fetch_add(len as u64, Ordering::Relaxed);
        }
        Ok(in_store)
    })?;
    let cache = std::sync::Mutex::new(RowCache {
        texts: Texts::new(db, reader),
        num: i64::MIN,
        record: None,
    });
    conn.create_scalar_function("lk_col", 7, FunctionFlags::SQLITE_UTF8, move |ctx| {
        if ctx.get::<i64>(5)? != ctx.get::<i64>(6)? {
            return Ok(Value::Null);
        }
        let num: i64 = ctx.get(0)?;
        let log_file: i64 = ctx.get(1)?;
        let offset: i64 = ctx.get(2)?;
        let len: i64 = ctx.get(3)?;
        let which: usize = ctx.get::<i64>(4)? as usize;
        let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
        if c.num != num {
            let text = c
                .texts
                .text(log_file)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?;
            let raw = text
                .get(offset as usize..(offset + len) as usize)
                .ok_or_else(|| user("a stored record's span is outside its log file"))?;
            c.record = Record::parse(raw);
            c.num = num;
            stats.records.fetch_add(1, Ordering::Relaxed);
        }
        let Some(rec) = c.record.as_ref() else {
            return Ok(Value::Null);
        };
        let p = &paths[which];
        Ok(match p.source {
            Source::Text => Value::Text(rec.text().to_string()),
            Source::Checksum => Value::Text(rec.checksum()),
            Source::Field => {
                let path: Vec<&str> = p.path.iter().map(String::as_str).collect();
                rec.value(&path, &p.ty)
            }
        })
    })?;
    conn.create_scalar_function("lk_div", 2, pure, |ctx| {
        use rusqlite::types::ValueRef::*;
        Ok(match (ctx.get_raw(0), ctx.get_raw(1)) {
            (Null, _) | (_, Null) => Value::Null,
            (Integer(a), Integer(b)) => {
                if b == 0 {
                    return Err(user("Division by zero"));
                }
                Value::Integer(a.wrapping_div(b))
            }
            (a, b) => Value::Real(real(a) / real(b)),
        })
    })?;
    conn.create_scalar_function("lk_mod", 2, pure, |ctx| {
        use rusqlite::types::ValueRef::*;
        Ok(match (ctx.get_raw(0), ctx.get_raw(1)) {
            (Null, _) | (_, Null) => Value::Null,
            (Integer(a), Integer(b)) => {
                if b == 0 {
                    return Err(user("Division by zero"));
                }
                Value::Integer(a.wrapping_rem(b))
            }
            (a, b) => Value::Real(real(a) % real(b)),
        })
    })?;
    conn.create_scalar_function("lk_round", -1, pure, |ctx| {
        let x: Option<f64> = ctx.get(0)?;
        let d: i64 = if ctx.len() > 1 { ctx.get(1)? } else { 0 };
        Ok(x.map(|x| {
            let m = 10f64.powi(d as i32);
            (x * m).round() / m
        }))
    })?;
    conn.create_scalar_function("lk_floor", 1, pure, |ctx| {
        Ok(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Real(x) => Value::Real(x.floor()),
            other => Value::from(other),
        })
    })?;
    conn.create_scalar_function("lk_ceil", 1, pure, |ctx| {
        Ok(match ctx.get_raw(0) {
            rusqlite::types::ValueRef::Real(x) => Value::Real(x.ceil()),
            other => Value::from(other),
        })
    })?;
    conn.create_scalar_function("lk_date_text", 1, pure, |ctx| {
        let d: Option<i64> = ctx.get(0)?;
        Ok(d.and_then(|d| {
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(d)))
                .map(|x| x.format("%Y-%m-%d").to_string())
        }))
    })?;
    Ok(())
}

fn real(v: rusqlite::types::ValueRef<'_>) -> f64 {
    match v {
        rusqlite::types::ValueRef::Integer(i) => i as f64,
        rusqlite::types::ValueRef::Real(r) => r,
        _ => f64::NAN,
    }
}

fn user(msg: &str) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(msg.into())
}
