//! The read path: events with their raw records, byte for byte.

use crate::{Store, StoreError};
use flate2::read::MultiGzDecoder;
use rusqlite::params;
use std::io::Read;
use std::sync::Arc;

/// How many bytes of inflated log files a store keeps for reading records (at least one file
/// whatever its size).
pub const TEXT_CACHE_BYTES: usize = 64 << 20;

/// Inflated log files by number, least recently used first, within a byte limit (at least one
/// file whatever its size). Reads in time order move across the few files whose records
/// overlap in time, so each is inflated about once.
#[derive(Debug)]
pub struct TextCache {
    files: Vec<(i64, Arc<Vec<u8>>)>,
    bytes: usize,
    limit: usize,
}

impl Default for TextCache {
    fn default() -> Self {
        TextCache::new(TEXT_CACHE_BYTES)
    }
}

impl TextCache {
    /// An empty cache of at most `limit` bytes (and at least one file).
    pub fn new(limit: usize) -> TextCache {
        TextCache {
            files: Vec::new(),
            bytes: 0,
            limit,
        }
    }

    /// Log file `num`'s text, if held; it becomes the most recently used.
    pub fn get(&mut self, num: i64) -> Option<Arc<Vec<u8>>> {
        let i = self.files.iter().position(|(n, _)| *n == num)?;
        let hit = self.files.remove(i);
        let text = hit.1.clone();
        self.files.push(hit);
        Some(text)
    }

    /// Holds log file `num`'s text as the most recently used, dropping the least recently
    /// used beyond the limit.
    pub fn insert(&mut self, num: i64, text: Arc<Vec<u8>>) {
        self.bytes += text.len();
        self.files.push((num, text));
        while self.bytes > self.limit && self.files.len() > 1 {
            let (_, old) = self.files.remove(0);
            self.bytes -= old.len();
        }
    }
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only this store's events.
    pub eds_num: Option<i64>,
    /// Only this import's events.
    pub import_id: Option<String>,
    /// Events after this one (for paging).
    pub after_num: i64,
    pub limit: usize,
}

/// The partition values a store's events take (for a table's partition projection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionValues {
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// The earliest eventTime, in ms.
    pub first_ms: Option<i64>,
}

/// One stored event as [`Store::for_each_event_by_partition`] hands it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionedEvent<'a> {
    /// `recipientAccountId`, if the record has one.
    pub account: Option<&'a str>,
    /// `awsRegion`, if the record has one.
    pub region: Option<&'a str>,
    pub time_ms: i64,
    /// The record exactly as it was in the log file.
    pub raw: &'a [u8],
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub num: i64,
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
            "SELECT e.num, e.event_time, s.value, n.value, r.value, a.value, \
                    COALESCE(f.key, l.key), l.num, e.offset, e.len \
             FROM events e JOIN log_files l ON l.num = e.log_file \
             LEFT JOIN import_files f ON f.import_id = l.import_id AND f.file_no = l.file_no \
             JOIN strings s ON s.num = e.source JOIN strings n ON n.num = e.name \
             LEFT JOIN strings r ON r.num = e.region LEFT JOIN strings a ON a.num = e.account \
             WHERE e.num > ?1 AND (?2 IS NULL OR l.eds_num = ?2) \
               AND (?3 IS NULL OR l.import_id = ?3) \
             ORDER BY e.num LIMIT ?4",
        )?;
        let mut rows = stmt.query(params![q.after_num, q.eds_num, q.import_id, q.limit as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let log_file: i64 = r.get(7)?;
            let (offset, len): (usize, usize) = (r.get(8)?, r.get(9)?);
            let raw = self.record_bytes(log_file, offset, len)?;
            out.push(StoredEvent {
                num: r.get(0)?,
                time_ms: r.get(1)?,
                source: r.get(2)?,
                name: r.get(3)?,
                region: r.get(4)?,
                account: r.get(5)?,
                key: r.get(6)?,
                raw,
            });
        }
        Ok(out)
    }

    /// Every event of a store whose eventTime lies in `[start_ms, end_ms]` (either end open),
    /// ordered by recipient account, Region, eventTime and then storage order (missing
    /// accounts and Regions first), handed to `each` with its record's exact bytes. Records
    /// are read through the cache of inflated files, which this order walks across the few
    /// files that overlap in time. Stops at the first `Err` of `each` and returns it.
    pub fn for_each_event_by_partition<E>(
        &self,
        eds_num: i64,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        mut each: impl FnMut(&PartitionedEvent<'_>) -> Result<(), E>,
    ) -> Result<Result<(), E>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT a.value, r.value, e.event_time, e.log_file, e.offset, e.len \
             FROM events e JOIN log_files l ON l.num = e.log_file \
             LEFT JOIN strings a ON a.num = e.account LEFT JOIN strings r ON r.num = e.region \
             WHERE l.eds_num = ?1 AND (?2 IS NULL OR e.event_time >= ?2) \
               AND (?3 IS NULL OR e.event_time <= ?3) \
             ORDER BY a.value, r.value, e.event_time, e.num",
        )?;
        // A scan that reads each page once, and sorts every event.
        self.with_sort_cache(|| {
            self.each_by_partition(&mut stmt, eds_num, start_ms, end_ms, &mut each)
        })
    }

    fn each_by_partition<E>(
        &self,
        stmt: &mut rusqlite::Statement<'_>,
        eds_num: i64,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        each: &mut impl FnMut(&PartitionedEvent<'_>) -> Result<(), E>,
    ) -> Result<Result<(), E>, StoreError> {
        let mut rows = stmt.query(params![eds_num, start_ms, end_ms])?;
        while let Some(r) = rows.next()? {
            let (log_file, offset, len): (i64, usize, usize) = (r.get(3)?, r.get(4)?, r.get(5)?);
            // The record is borrowed from the cached file, not copied.
            let text = self.cached_text(log_file)?;
            let raw = record_of(&text, log_file, offset, len)?;
            let (account, region): (Option<String>, Option<String>) = (r.get(0)?, r.get(1)?);
            let event = PartitionedEvent {
                account: account.as_deref(),
                region: region.as_deref(),
                time_ms: r.get(2)?,
                raw,
            };
            if let Err(e) = each(&event) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    /// The distinct recipient accounts and Regions of a store's events (sorted), and its
    /// earliest eventTime.
    pub fn partition_values(&self, eds_num: i64) -> Result<PartitionValues, StoreError> {
        let distinct = |column: &str| -> Result<Vec<String>, StoreError> {
            let mut stmt = self.conn.prepare(&format!(
                "SELECT DISTINCT s.value FROM events e JOIN log_files l ON l.num = e.log_file \
                 JOIN strings s ON s.num = e.{column} WHERE l.eds_num = ?1 ORDER BY 1"
            ))?;
            let rows = stmt.query_map([eds_num], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let first: Option<i64> = self.conn.query_row(
            "SELECT MIN(e.event_time) FROM events e JOIN log_files l ON l.num = e.log_file \
             WHERE l.eds_num = ?1",
            [eds_num],
            |r| r.get(0),
        )?;
        Ok(PartitionValues {
            accounts: distinct("account")?,
            regions: distinct("region")?,
            first_ms: first,
        })
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
        let text = self.cached_text(log_file)?;
        record_of(&text, log_file, offset, len).map(<[u8]>::to_vec)
    }

    /// The inflated text of a stored log file, through the cache of inflated files.
    fn cached_text(&self, log_file: i64) -> Result<Arc<Vec<u8>>, StoreError> {
        let mut cache = self.texts.borrow_mut();
        if let Some(text) = cache.get(log_file) {
            return Ok(text);
        }
        let text = Arc::new(self.log_file_text(log_file)?);
        cache.insert(log_file, text.clone());
        Ok(text)
    }

    /// The compressed size of a stored log file, if there is one of that number.
    pub fn log_file_gz_len(&self, log_file: i64) -> Result<Option<i64>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .prepare_cached(if self.inline_bytes_only {
                "SELECT length(gz) FROM log_files WHERE num = ?1"
            } else {
                "SELECT COALESCE(gz_len, length(gz)) FROM log_files WHERE num = ?1"
            })?
            .query_row([log_file], |r| r.get(0))
            .optional()?)
    }

    /// The inflated text of a stored log file (a record is the span `offset .. offset + len`
    /// of it).
    pub fn log_file_text(&self, log_file: i64) -> Result<Vec<u8>, StoreError> {
        let (held, segment): (Vec<u8>, Option<(i64, i64, i64)>) = self
            .conn
            .prepare_cached(if self.inline_bytes_only {
                "SELECT gz, NULL, NULL, NULL FROM log_files WHERE num = ?1"
            } else {
                "SELECT gz, segment, seg_offset, gz_len FROM log_files WHERE num = ?1"
            })?
            .query_row([log_file], |r| {
                let at = match (r.get(1)?, r.get(2)?, r.get(3)?) {
                    (Some(s), Some(o), Some(l)) => Some((s, o, l)),
                    _ => None,
                };
                Ok((r.get(0)?, at))
            })?;
        let gz = match segment {
            None => held,
            Some((num, offset, len)) => {
                let (offset, len) = match (u64::try_from(offset), usize::try_from(len)) {
                    (Ok(o), Ok(l)) => (o, l),
                    _ => return Err(StoreError::LogFile(log_file, "bad segment range".into())),
                };
                self.segment_bytes(num, offset, len)?
            }
        };
        let mut text = Vec::with_capacity(gz.len() * 8);
        MultiGzDecoder::new(gz.as_slice())
            .read_to_end(&mut text)
            .map_err(|e| StoreError::LogFile(log_file, e.to_string()))?;
        Ok(text)
    }
}

/// The span `offset .. offset + len` of a log file's text.
fn record_of(text: &[u8], log_file: i64, offset: usize, len: usize) -> Result<&[u8], StoreError> {
    offset
        .checked_add(len)
        .and_then(|end| text.get(offset..end))
        .ok_or_else(|| StoreError::LogFile(log_file, "record span out of range".into()))
}
