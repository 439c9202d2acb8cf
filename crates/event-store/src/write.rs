//! The write path: a batch of finished files committed in one transaction.

use crate::imports::{FILE_DONE, FILE_FAILED, FILE_PENDING, FILE_RETRY, FILE_TRYING};
use crate::{FailureStatus, ImportStatus, Segment, Store, StoreError};
use rusqlite::{params, OptionalExtension, Transaction};
use rustc_hash::FxHashMap;

/// One valid event of a file: its record's byte span in the inflated file and its fields.
/// `source`, `name`, `region` and `account` index the file's [`FileWrite::strings`].
#[derive(Debug, Clone, Copy)]
pub struct EventRow {
    pub offset: u32,
    pub len: u32,
    pub time_ms: i64,
    pub source: u32,
    pub name: u32,
    pub region: Option<u32>,
    pub account: Option<u32>,
}

/// The failure entry of a file.
#[derive(Debug, Clone, Copy)]
pub struct FailureRow<'a> {
    pub location: &'a str,
    pub error_type: &'a str,
    pub error_message: &'a str,
}

/// Where a log file's original gzip bytes are.
#[derive(Debug, Clone, Copy)]
pub enum LogBytes<'a> {
    /// In memory: they are stored in the database.
    Held(&'a [u8]),
    /// Already appended to a segment of the run (see [`Store::new_segment`]).
    Appended {
        segment: &'a Segment,
        offset: u64,
        len: u64,
    },
}

/// One finished file of an import.
#[derive(Debug, Clone, Copy)]
pub struct FileWrite<'a> {
    /// The file's number in the import (its key is its `import_files` row's).
    pub file_no: i64,
    /// The object's original gzip bytes; kept only when `events` is not empty.
    pub gz: LogBytes<'a>,
    pub events: &'a [EventRow],
    /// The distinct strings the events index.
    pub strings: &'a [&'a str],
    pub failure: Option<FailureRow<'a>>,
}

impl Store {
    /// Commits `files` of `import_id` into the store `eds_num`, in one transaction, if the
    /// import is still `INITIALIZING` or `IN_PROGRESS` and `owner` still owns it: each file's events replace any it had
    /// from an earlier attempt, its failure entry is recorded (or its retried entry settled), it
    /// is marked done, and the import's statistics move with it. The segments the files' bytes
    /// were appended to are synced first, so no committed row names bytes not on disk. A file
    /// already done is
    /// skipped, so a batch written twice changes nothing. Returns `false`, writing nothing,
    /// when the import is no longer running (a stop was answered first) or no longer `owner`'s:
    /// its files stay to be read by whoever runs it next.
    pub fn write_files(
        &mut self,
        import_id: &str,
        owner: &str,
        eds_num: i64,
        files: &[FileWrite<'_>],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut synced: Vec<i64> = Vec::new();
        for f in files {
            if let LogBytes::Appended { segment, .. } = f.gz {
                if !f.events.is_empty() && !synced.contains(&segment.num()) {
                    segment.sync()?;
                    synced.push(segment.num());
                }
            }
        }
        let tx = self.conn.transaction()?;
        let running = tx
            .prepare_cached("SELECT status, owner FROM imports WHERE id = ?1")?
            .query_row([import_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .optional()?
            .is_some_and(|(s, o)| {
                (s == ImportStatus::Initializing.as_db() || s == ImportStatus::InProgress.as_db())
                    && o.as_deref() == Some(owner)
            });
        if !running {
            return Ok(false);
        }
        let mut delta = Delta::default();
        for f in files {
            write_one(
                &tx,
                &mut self.strings,
                import_id,
                eds_num,
                f,
                now_ms,
                &mut delta,
            )?;
        }
        tx.execute(
            "UPDATE imports SET files_completed = files_completed + ?2, \
             events_completed = events_completed + ?3, failed_entries = failed_entries + ?4, \
             prefixes_completed = prefixes_completed + ?5, updated_ms = ?6 WHERE id = ?1",
            params![
                import_id,
                delta.files,
                delta.events,
                delta.failed,
                delta.prefixes,
                now_ms
            ],
        )?;
        match tx.commit() {
            Ok(()) => Ok(true),
            Err(e) => {
                // Ids interned in the rolled-back transaction are gone.
                self.strings.clear();
                Err(e.into())
            }
        }
    }
}

/// The secondary indexes of `events`. Keeping them up costs an import about a microsecond per
/// event each; making one anew costs a sort of every event, about a third of that per event.
const EVENT_INDEXES: [&str; 2] = ["events_by_time", "events_by_name"];

/// Below this many files an import keeps the indexes up whatever the store's size.
const BULK_FILES: i64 = 64;

impl Store {
    /// Whether an import of `files` more log files pays for dropping the secondary indexes of
    /// `events` and making them again once at its end: when it at least doubles the store.
    pub fn bulk_import_pays(&self, files: i64) -> Result<bool, StoreError> {
        let held: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM log_files", [], |r| r.get(0))?;
        Ok(files >= BULK_FILES && files >= held)
    }

    /// Drops the secondary indexes of `events` for a bulk import, recording them so that
    /// [`Store::restore_event_indexes`] makes them again: at the import's end, or, should it
    /// never end, at the next import's end, query or log task. Queries give the same answers
    /// without them, only slower. Returns how many were dropped.
    pub fn suspend_event_indexes(&self) -> Result<usize, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let found: Vec<(String, String)> = {
            let mut stmt = tx.prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' \
                 AND name IN (?1, ?2)",
            )?;
            let rows = stmt.query_map(EVENT_INDEXES, |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (name, sql) in &found {
            tx.execute(
                "INSERT OR REPLACE INTO suspended_indexes (name, sql) VALUES (?1, ?2)",
                params![name, sql],
            )?;
            tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        }
        tx.commit()?;
        Ok(found.len())
    }

    /// Makes again the indexes a bulk import dropped, if any are still missing.
    pub fn restore_event_indexes(&self) -> Result<(), StoreError> {
        let pending: i64 =
            self.conn
                .query_row("SELECT COUNT(*) FROM suspended_indexes", [], |r| r.get(0))?;
        if pending == 0 {
            return Ok(());
        }
        // Each index sorts every event.
        self.with_sort_cache(|| self.make_suspended_indexes())
    }

    fn make_suspended_indexes(&self) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let suspended: Vec<(String, String)> = {
            let mut stmt = tx.prepare(
                "SELECT s.name, s.sql FROM suspended_indexes s WHERE NOT EXISTS \
                 (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = s.name)",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (_, sql) in &suspended {
            tx.execute_batch(sql)?;
        }
        tx.execute("DELETE FROM suspended_indexes", [])?;
        tx.commit()?;
        Ok(())
    }
}

#[derive(Default)]
struct Delta {
    files: i64,
    events: i64,
    failed: i64,
    prefixes: i64,
}

fn write_one(
    tx: &Transaction,
    strings: &mut FxHashMap<String, i64>,
    import_id: &str,
    eds_num: i64,
    f: &FileWrite,
    now_ms: i64,
    delta: &mut Delta,
) -> Result<(), StoreError> {
    let Some((state, prefix_no)) = tx
        .prepare_cached(
            "SELECT state, prefix_no FROM import_files WHERE import_id = ?1 AND file_no = ?2",
        )?
        .query_row(params![import_id, f.file_no], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .optional()?
    else {
        return Ok(());
    };
    // A file being tried alone is still pending (or retried) underneath.
    let state = if state >= FILE_TRYING {
        state - FILE_TRYING
    } else {
        state
    };
    if state != FILE_PENDING && state != FILE_RETRY {
        return Ok(());
    }
    // Only a retried file was written before: its events of the earlier attempt (a partial
    // file) are replaced, and its failure entry settled. A pending file has neither.
    let retrying = state == FILE_RETRY;
    let earlier = if retrying {
        tx.prepare_cached(
            "SELECT num, first_event, events FROM log_files WHERE import_id = ?1 AND file_no = ?2",
        )?
        .query_row(params![import_id, f.file_no], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?
    } else {
        None
    };
    if let Some((num, first, count)) = earlier {
        tx.prepare_cached("DELETE FROM events WHERE num >= ?1 AND num < ?1 + ?2")?
            .execute(params![first, count])?;
        tx.prepare_cached("DELETE FROM log_files WHERE num = ?1")?
            .execute([num])?;
        delta.events -= count;
    }
    if !f.events.is_empty() {
        let first: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(num), 0) + 1 FROM events")?
            .query_row([], |r| r.get(0))?;
        let (gz, segment, offset, len): (&[u8], _, _, _) = match f.gz {
            LogBytes::Held(b) => (b, None, None, None),
            LogBytes::Appended {
                segment,
                offset,
                len,
            } => (
                &[],
                Some(segment.num()),
                Some(offset as i64),
                Some(len as i64),
            ),
        };
        tx.prepare_cached(
            "INSERT INTO log_files (eds_num, import_id, file_no, key, first_event, events, gz, \
             segment, seg_offset, gz_len) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            eds_num,
            import_id,
            f.file_no,
            "",
            first,
            f.events.len() as i64,
            gz,
            segment,
            offset,
            len
        ])?;
        let log_file = tx.last_insert_rowid();
        let ids: Vec<i64> = f
            .strings
            .iter()
            .map(|s| intern(tx, strings, s))
            .collect::<Result<_, _>>()?;
        let id = |i: u32| {
            ids.get(i as usize)
                .copied()
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(format!("string {i}")))
        };
        // Many rows per statement: one VDBE program run per ROWS events.
        let mut rows = f.events.chunks_exact(ROWS);
        let mut num = first;
        if rows.len() > 0 {
            let mut insert = tx.prepare_cached(&insert_sql(ROWS))?;
            for chunk in rows.by_ref() {
                for (j, e) in chunk.iter().enumerate() {
                    bind_event(&mut insert, j * COLUMNS, num, log_file, e, &id)?;
                    num += 1;
                }
                insert.raw_execute()?;
            }
        }
        let rest = rows.remainder();
        if !rest.is_empty() {
            let mut insert = tx.prepare_cached(&insert_sql(1))?;
            for e in rest {
                bind_event(&mut insert, 0, num, log_file, e, &id)?;
                insert.raw_execute()?;
                num += 1;
            }
        }
        delta.events += f.events.len() as i64;
    }
    // Settle a retried entry of this file, or record a new one. A retried entry already counts
    // in FailedEntries: it leaves it only when it succeeds.
    let retried: Option<i64> = if retrying {
        tx.prepare_cached(
            "SELECT num FROM import_failures WHERE import_id = ?1 AND file_no = ?2 AND status = ?3",
        )?
        .query_row(
            params![import_id, f.file_no, FailureStatus::Retry.as_db()],
            |r| r.get(0),
        )
        .optional()?
    } else {
        None
    };
    match (retried, f.failure) {
        (Some(num), None) => {
            tx.prepare_cached(
                "UPDATE import_failures SET status = ?3, updated_ms = ?2 WHERE num = ?1",
            )?
            .execute(params![num, now_ms, FailureStatus::Succeeded.as_db()])?;
            delta.failed -= 1;
        }
        (Some(num), Some(fail)) => {
            tx.prepare_cached(
                "UPDATE import_failures SET status = ?6, error_type = ?2, error_message = ?3, \
                 location = ?4, updated_ms = ?5 WHERE num = ?1",
            )?
            .execute(params![
                num,
                fail.error_type,
                fail.error_message,
                fail.location,
                now_ms,
                FailureStatus::Failed.as_db()
            ])?;
        }
        (None, Some(fail)) => {
            tx.prepare_cached(
                "INSERT INTO import_failures (import_id, file_no, location, status, error_type, \
                 error_message, updated_ms) VALUES (?1, ?2, ?3, ?7, ?4, ?5, ?6)",
            )?
            .execute(params![
                import_id,
                f.file_no,
                fail.location,
                fail.error_type,
                fail.error_message,
                now_ms,
                FailureStatus::Failed.as_db()
            ])?;
            delta.failed += 1;
        }
        (None, None) => {}
    }
    let new_state = if f.failure.is_some() {
        FILE_FAILED
    } else {
        FILE_DONE
    };
    tx.prepare_cached("UPDATE import_files SET state = ?3 WHERE import_id = ?1 AND file_no = ?2")?
        .execute(params![import_id, f.file_no, new_state])?;
    // A file read again by a retry already counts as completed, and so does its folder.
    if state == FILE_PENDING {
        let (done, total): (i64, i64) = tx
            .prepare_cached(
                "UPDATE import_prefixes SET files_done = files_done + 1 \
                 WHERE import_id = ?1 AND prefix_no = ?2 RETURNING files_done, files_total",
            )?
            .query_row(params![import_id, prefix_no], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if done == total {
            delta.prefixes += 1;
        }
        delta.files += 1;
    }
    Ok(())
}

/// Events inserted per statement, and the columns of each.
const ROWS: usize = 32;
const COLUMNS: usize = 9;

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO events (num, log_file, offset, len, event_time, source, name, region, \
         account) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?)");
    }
    sql
}

/// Binds one event's columns at parameters `at + 1 ..= at + COLUMNS`.
fn bind_event(
    insert: &mut rusqlite::CachedStatement<'_>,
    at: usize,
    num: i64,
    log_file: i64,
    e: &EventRow,
    id: &impl Fn(u32) -> Result<i64, rusqlite::Error>,
) -> Result<(), rusqlite::Error> {
    insert.raw_bind_parameter(at + 1, num)?;
    insert.raw_bind_parameter(at + 2, log_file)?;
    insert.raw_bind_parameter(at + 3, e.offset)?;
    insert.raw_bind_parameter(at + 4, e.len)?;
    insert.raw_bind_parameter(at + 5, e.time_ms)?;
    insert.raw_bind_parameter(at + 6, id(e.source)?)?;
    insert.raw_bind_parameter(at + 7, id(e.name)?)?;
    insert.raw_bind_parameter(at + 8, e.region.map(id).transpose()?)?;
    insert.raw_bind_parameter(at + 9, e.account.map(id).transpose()?)?;
    Ok(())
}

fn intern(
    tx: &Transaction,
    strings: &mut FxHashMap<String, i64>,
    value: &str,
) -> Result<i64, StoreError> {
    if let Some(&id) = strings.get(value) {
        return Ok(id);
    }
    tx.prepare_cached("INSERT OR IGNORE INTO strings (value) VALUES (?1)")?
        .execute([value])?;
    let id: i64 = tx
        .prepare_cached("SELECT num FROM strings WHERE value = ?1")?
        .query_row([value], |r| r.get(0))?;
    strings.insert(value.to_string(), id);
    Ok(id)
}
