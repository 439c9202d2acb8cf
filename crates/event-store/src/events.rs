//! The read path: events with their raw records, byte for byte.

use crate::{Store, StoreError};
use flate2::read::MultiGzDecoder;
use rusqlite::params;
use std::io::Read;

/// How many bytes of inflated log files a store keeps for reading records (at least one file
/// whatever its size).
const TEXT_CACHE_BYTES: usize = 64 << 20;

/// The log files last inflated, least recently used first, within [`TEXT_CACHE_BYTES`]. Reads
/// in time order move across the few files whose records overlap in time, so each is inflated
/// about once.
#[derive(Default)]
pub(crate) struct TextCache {
    files: Vec<(i64, Vec<u8>)>,
    bytes: usize,
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only this store's events.
    pub eds_num: Option<i64>,
    /// Only events with this `eventID`.
    pub event_id: Option<String>,
    /// Only this import's events.
    pub import_id: Option<String>,
    /// Events after this one (for paging).
    pub after_num: i64,
    pub limit: usize,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub num: i64,
    pub event_id: Option<String>,
    pub time_ms: i64,
    pub source: String,
    pub name: String,
    pub region: Option<String>,
    pub account: Option<String>,
    /// The key of the log file it came from.
    pub key: String,
    /// The record exactly as it was in the log file.
    pub raw: Vec<u8>,
}

impl Store {
    /// Events matching `q`, in the order they were stored.
    pub fn events(&self, q: &EventQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.num, e.event_id, e.event_time, s.value, n.value, r.value, a.value, \
                    l.key, l.num, e.offset, e.len \
             FROM events e JOIN log_files l ON l.num = e.log_file \
             JOIN strings s ON s.num = e.source JOIN strings n ON n.num = e.name \
             LEFT JOIN strings r ON r.num = e.region LEFT JOIN strings a ON a.num = e.account \
             WHERE e.num > ?1 AND (?2 IS NULL OR l.eds_num = ?2) \
               AND (?3 IS NULL OR e.event_id = ?3) AND (?4 IS NULL OR l.import_id = ?4) \
             ORDER BY e.num LIMIT ?5",
        )?;
        let mut rows = stmt.query(params![
            q.after_num,
            q.eds_num,
            q.event_id,
            q.import_id,
            q.limit as i64
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let log_file: i64 = r.get(8)?;
            let (offset, len): (usize, usize) = (r.get(9)?, r.get(10)?);
            let raw = self.record_bytes(log_file, offset, len)?;
            out.push(StoredEvent {
                num: r.get(0)?,
                event_id: r.get(1)?,
                time_ms: r.get(2)?,
                source: r.get(3)?,
                name: r.get(4)?,
                region: r.get(5)?,
                account: r.get(6)?,
                key: r.get(7)?,
                raw,
            });
        }
        Ok(out)
    }

    /// Number of events stored for `eds_num` (all stores when `None`).
    pub fn event_count(&self, eds_num: Option<i64>) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COALESCE(SUM(events), 0) FROM log_files WHERE ?1 IS NULL OR eds_num = ?1",
            [eds_num],
            |r| r.get(0),
        )?)
    }

    /// The bytes of one record of a stored log file, through the cache of inflated files.
    pub fn record_bytes(
        &self,
        log_file: i64,
        offset: usize,
        len: usize,
    ) -> Result<Vec<u8>, StoreError> {
        let mut cache = self.texts.borrow_mut();
        match cache.files.iter().position(|(n, _)| *n == log_file) {
            Some(i) => {
                let hit = cache.files.remove(i);
                cache.files.push(hit);
            }
            None => {
                let text = self.log_file_text(log_file)?;
                cache.bytes += text.len();
                cache.files.push((log_file, text));
                while cache.bytes > TEXT_CACHE_BYTES && cache.files.len() > 1 {
                    let (_, old) = cache.files.remove(0);
                    cache.bytes -= old.len();
                }
            }
        }
        let (_, text) = cache.files.last().expect("just cached");
        text.get(offset..offset + len)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| StoreError::LogFile(log_file, "record span out of range".into()))
    }

    /// The compressed size of a stored log file, if there is one of that number.
    pub fn log_file_gz_len(&self, log_file: i64) -> Result<Option<i64>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached("SELECT length(gz) FROM log_files WHERE num = ?1")?
            .query_row([log_file], |r| r.get(0))
            .optional()?)
    }

    /// The inflated text of a stored log file (a record is the span `offset .. offset + len`
    /// of it).
    pub fn log_file_text(&self, log_file: i64) -> Result<Vec<u8>, StoreError> {
        let gz: Vec<u8> = self
            .conn
            .prepare_cached("SELECT gz FROM log_files WHERE num = ?1")?
            .query_row([log_file], |r| r.get(0))?;
        let mut text = Vec::with_capacity(gz.len() * 8);
        MultiGzDecoder::new(gz.as_slice())
            .read_to_end(&mut text)
            .map_err(|e| StoreError::LogFile(log_file, e.to_string()))?;
        Ok(text)
    }
}
