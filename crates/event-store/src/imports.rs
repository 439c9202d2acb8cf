//! Imports: their records, discovered folders and files, and failure entries.

use crate::{now_ms, Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};

/// `ImportStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportStatus {
    Initializing,
    InProgress,
    Failed,
    Stopped,
    Completed,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 5] = [
        Self::Initializing,
        Self::InProgress,
        Self::Failed,
        Self::Stopped,
        Self::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "INITIALIZING",
            Self::InProgress => "IN_PROGRESS",
            Self::Failed => "FAILED",
            Self::Stopped => "STOPPED",
            Self::Completed => "COMPLETED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the import is still running (or waiting to run).
    pub fn is_ongoing(self) -> bool {
        matches!(self, Self::Initializing | Self::InProgress)
    }
}

/// `ImportFailureStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureStatus {
    Failed,
    Retry,
    Succeeded,
}

impl FailureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "FAILED",
            Self::Retry => "RETRY",
            Self::Succeeded => "SUCCEEDED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Failed, Self::Retry, Self::Succeeded]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// `ImportStatistics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportStatistics {
    pub prefixes_found: i64,
    pub prefixes_completed: i64,
    pub files_completed: i64,
    pub events_completed: i64,
    pub failed_entries: i64,
}

/// What is needed to create an import.
#[derive(Debug, Clone, Default)]
pub struct NewImport {
    pub account: String,
    pub region: String,
    /// The destination store's ARN as given.
    pub destination: String,
    pub eds_num: Option<i64>,
    pub source_uri: String,
    pub bucket_region: String,
    pub role_arn: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

/// An import row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    pub id: String,
    pub account: String,
    pub region: String,
    pub destination: String,
    pub eds_num: Option<i64>,
    pub source_uri: String,
    pub bucket_region: String,
    pub role_arn: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub status: ImportStatus,
    /// Whether discovery finished, so the file list is complete.
    pub discovered: bool,
    pub statistics: ImportStatistics,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Filters of `ListImports`.
#[derive(Debug, Clone, Default)]
pub struct ImportFilter {
    pub destination: Option<String>,
    pub status: Option<ImportStatus>,
    pub account: Option<String>,
    pub region: Option<String>,
}

/// A file still to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFile {
    pub file_no: i64,
    pub key: String,
    pub size: i64,
}

/// A failure entry row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRecord {
    pub num: i64,
    pub location: String,
    pub status: FailureStatus,
    pub error_type: String,
    pub error_message: String,
    pub updated_ms: i64,
}

const COLUMNS: &str = "id, account, region, destination, eds_num, source_uri, bucket_region, \
     role_arn, start_ms, end_ms, status, discovered, prefixes_found, prefixes_completed, \
     files_completed, events_completed, failed_entries, created_ms, updated_ms";

fn from_row(r: &Row) -> rusqlite::Result<Result<ImportRecord, StoreError>> {
    let status: String = r.get(10)?;
    let Some(parsed) = ImportStatus::parse(&status) else {
        return Ok(Err(StoreError::Corrupt {
            table: "imports",
            column: "status",
            value: status,
        }));
    };
    Ok(Ok(ImportRecord {
        id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        destination: r.get(3)?,
        eds_num: r.get(4)?,
        source_uri: r.get(5)?,
        bucket_region: r.get(6)?,
        role_arn: r.get(7)?,
        start_ms: r.get(8)?,
        end_ms: r.get(9)?,
        status: parsed,
        discovered: r.get(11)?,
        statistics: ImportStatistics {
            prefixes_found: r.get(12)?,
            prefixes_completed: r.get(13)?,
            files_completed: r.get(14)?,
            events_completed: r.get(15)?,
            failed_entries: r.get(16)?,
        },
        created_ms: r.get(17)?,
        updated_ms: r.get(18)?,
    }))
}

impl Store {
    /// Creates an import in `INITIALIZING` with a fresh lower-case UUID.
    pub fn create_import(&self, new: &NewImport) -> Result<ImportRecord, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.conn.execute(
            "INSERT INTO imports (id, account, region, destination, eds_num, source_uri, \
             bucket_region, role_arn, start_ms, end_ms, status, created_ms, updated_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
            params![
                id,
                new.account,
                new.region,
                new.destination,
                new.eds_num,
                new.source_uri,
                new.bucket_region,
                new.role_arn,
                new.start_ms,
                new.end_ms,
                ImportStatus::Initializing.as_str(),
                now_ms()
            ],
        )?;
        Ok(self.import(&id)?.expect("just inserted"))
    }

    pub fn import(&self, id: &str) -> Result<Option<ImportRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], from_row)
            .optional()?;
        row.transpose()
    }

    /// Imports matching `filter`, oldest first.
    pub fn imports(&self, filter: &ImportFilter) -> Result<Vec<ImportRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM imports WHERE (?1 IS NULL OR destination = ?1) \
             AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR account = ?3) \
             AND (?4 IS NULL OR region = ?4) ORDER BY created_ms, id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                filter.destination,
                filter.status.map(ImportStatus::as_str),
                filter.account,
                filter.region
            ],
            from_row,
        )?;
        rows.map(|r| r?).collect()
    }

    /// Sets an import's status (and bumps `updated_ms`).
    pub fn set_import_status(&self, id: &str, status: ImportStatus) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE imports SET status = ?2, updated_ms = ?3 WHERE id = ?1",
            params![id, status.as_str(), now_ms()],
        )?;
        Ok(())
    }

    /// Sets the status only if it is currently `from`; returns whether it changed.
    pub fn transition_import(
        &self,
        id: &str,
        from: &[ImportStatus],
        to: ImportStatus,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let current: Option<String> = tx
            .query_row("SELECT status FROM imports WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let ok = current
            .and_then(|s| ImportStatus::parse(&s))
            .is_some_and(|s| from.contains(&s));
        if ok {
            tx.execute(
                "UPDATE imports SET status = ?2, updated_ms = ?3 WHERE id = ?1",
                params![id, to.as_str(), now_ms()],
            )?;
        }
        tx.commit()?;
        Ok(ok)
    }

    /// Records one discovered folder and its files (in one transaction); counts it in
    /// `PrefixesFound`. Files are numbered on from those already recorded.
    pub fn add_prefix(
        &self,
        import_id: &str,
        prefix: &str,
        files: &[(String, u64)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let (prefix_no, file_no): (i64, i64) = tx.query_row(
            "SELECT (SELECT COUNT(*) FROM import_prefixes WHERE import_id = ?1), \
                    (SELECT COALESCE(MAX(file_no) + 1, 0) FROM import_files WHERE import_id = ?1)",
            [import_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.execute(
            "INSERT INTO import_prefixes (import_id, prefix_no, prefix, files_total) \
             VALUES (?1, ?2, ?3, ?4)",
            params![import_id, prefix_no, prefix, files.len() as i64],
        )?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO import_files (import_id, file_no, prefix_no, key, size) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (i, (key, size)) in files.iter().enumerate() {
                stmt.execute(params![
                    import_id,
                    file_no + i as i64,
                    prefix_no,
                    key,
                    *size as i64
                ])?;
            }
        }
        tx.execute(
            "UPDATE imports SET prefixes_found = prefixes_found + 1, updated_ms = ?2 WHERE id = ?1",
            params![import_id, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets a discovery that did not finish (its folders, files and count), so it can run
    /// again from the start. Does nothing once discovery finished.
    pub fn reset_discovery(&self, import_id: &str) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let discovered: bool = tx.query_row(
            "SELECT discovered FROM imports WHERE id = ?1",
            [import_id],
            |r| r.get(0),
        )?;
        if !discovered {
            tx.execute("DELETE FROM import_files WHERE import_id = ?1", [import_id])?;
            tx.execute(
                "DELETE FROM import_prefixes WHERE import_id = ?1",
                [import_id],
            )?;
            tx.execute(
                "UPDATE imports SET prefixes_found = 0 WHERE id = ?1",
                [import_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks discovery finished; entries of a failed listing that were being retried succeed.
    pub fn finish_discovery(&self, import_id: &str) -> Result<(), StoreError> {
        let now = now_ms();
        self.conn.execute(
            "UPDATE imports SET discovered = 1, updated_ms = ?2 WHERE id = ?1",
            params![import_id, now],
        )?;
        self.conn.execute(
            "UPDATE import_failures SET status = 'SUCCEEDED', updated_ms = ?2 \
             WHERE import_id = ?1 AND file_no IS NULL AND status = 'RETRY'",
            params![import_id, now],
        )?;
        Ok(())
    }

    /// Files not yet done, in order, after `after_file_no`, at most `limit`.
    pub fn pending_files(
        &self,
        import_id: &str,
        after_file_no: i64,
        limit: usize,
    ) -> Result<Vec<PendingFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT file_no, key, size FROM import_files WHERE import_id = ?1 AND state = 0 \
             AND file_no > ?2 ORDER BY file_no LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![import_id, after_file_no, limit as i64], |r| {
            Ok(PendingFile {
                file_no: r.get(0)?,
                key: r.get(1)?,
                size: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number and total size of the files not yet done.
    pub fn pending_totals(&self, import_id: &str) -> Result<(i64, i64), StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM import_files \
             WHERE import_id = ?1 AND state = 0",
            [import_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Prepares a retry: every `FAILED` entry becomes `RETRY` and its file is pending again;
    /// `FailedEntries` counts only what is still failed. Returns the entries set to retry.
    pub fn prepare_retry(&self, import_id: &str) -> Result<i64, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let now = now_ms();
        let n = tx.execute(
            "UPDATE import_failures SET status = 'RETRY', updated_ms = ?2 \
             WHERE import_id = ?1 AND status = 'FAILED'",
            params![import_id, now],
        )? as i64;
        // A retried file leaves the completed counts until it finishes again.
        tx.execute(
            "UPDATE import_prefixes SET files_done = files_done - (SELECT COUNT(*) FROM import_files f \
               WHERE f.import_id = import_prefixes.import_id AND f.prefix_no = import_prefixes.prefix_no \
               AND f.state = 2) WHERE import_id = ?1",
            [import_id],
        )?;
        let files: i64 = tx.query_row(
            "SELECT COUNT(*) FROM import_files WHERE import_id = ?1 AND state = 2",
            [import_id],
            |r| r.get(0),
        )?;
        tx.execute(
            "UPDATE import_files SET state = 0 WHERE import_id = ?1 AND state = 2",
            [import_id],
        )?;
        tx.execute(
            "UPDATE imports SET failed_entries = failed_entries - ?2, \
             files_completed = files_completed - ?3, \
             prefixes_completed = (SELECT COUNT(*) FROM import_prefixes \
               WHERE import_id = ?1 AND files_done = files_total), \
             updated_ms = ?4 WHERE id = ?1",
            params![import_id, n, files, now],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Records a failure entry that belongs to no file (the bucket could not be listed, say)
    /// and counts it in `FailedEntries`.
    pub fn add_import_failure(
        &self,
        import_id: &str,
        location: &str,
        error_type: &str,
        error_message: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let now = now_ms();
        // A retried entry of the same location that failed again is settled, not repeated.
        let retried = tx.execute(
            "UPDATE import_failures SET status = 'FAILED', error_type = ?3, error_message = ?4, \
             updated_ms = ?5 WHERE import_id = ?1 AND file_no IS NULL AND location = ?2 \
             AND status = 'RETRY'",
            params![import_id, location, error_type, error_message, now],
        )?;
        if retried == 0 {
            tx.execute(
                "INSERT INTO import_failures (import_id, file_no, location, status, error_type, \
                 error_message, updated_ms) VALUES (?1, NULL, ?2, 'FAILED', ?3, ?4, ?5)",
                params![import_id, location, error_type, error_message, now],
            )?;
        }
        tx.execute(
            "UPDATE imports SET failed_entries = failed_entries + 1, updated_ms = ?2 WHERE id = ?1",
            params![import_id, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Failure entries of an import, in the order they were recorded, after `after_num`.
    pub fn failures(
        &self,
        import_id: &str,
        after_num: i64,
        limit: usize,
    ) -> Result<Vec<FailureRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT num, location, status, error_type, error_message, updated_ms \
             FROM import_failures WHERE import_id = ?1 AND num > ?2 ORDER BY num LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![import_id, after_num, limit as i64], |r| {
            let status: String = r.get(2)?;
            Ok((
                status,
                FailureRecord {
                    num: r.get(0)?,
                    location: r.get(1)?,
                    status: FailureStatus::Failed,
                    error_type: r.get(3)?,
                    error_message: r.get(4)?,
                    updated_ms: r.get(5)?,
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (status, mut rec) = row?;
            rec.status = FailureStatus::parse(&status).ok_or(StoreError::Corrupt {
                table: "import_failures",
                column: "status",
                value: status,
            })?;
            out.push(rec);
        }
        Ok(out)
    }
}
