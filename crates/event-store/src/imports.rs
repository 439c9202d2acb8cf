//! Imports: their records, discovered folders and files, and failure entries.

use crate::{Store, StoreError};
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

    /// How the status is written in the database.
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            Self::Initializing => "INITIALIZING",
            Self::InProgress => "IN_PROGRESS",
            Self::Failed => "FAILED",
            Self::Stopped => "STOPPED",
            Self::Completed => "COMPLETED",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_db() == s)
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
    pub const ALL: [FailureStatus; 3] = [Self::Failed, Self::Retry, Self::Succeeded];

    pub(crate) fn as_db(self) -> &'static str {
        match self {
            Self::Failed => "FAILED",
            Self::Retry => "RETRY",
            Self::Succeeded => "SUCCEEDED",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_db() == s)
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

/// What is needed to create an import; the caller chooses its ID.
#[derive(Debug, Clone, Default)]
pub struct NewImport {
    pub id: String,
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
    /// Where the bucket is read from (a local directory, an S3 endpoint), if it matters.
    pub source_root: Option<String>,
    pub now_ms: i64,
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
    pub source_root: Option<String>,
    /// The import's row number: later imports have larger ones.
    pub num: i64,
}

/// Which imports to list; every filter that is set must hold.
#[derive(Debug, Clone, Default)]
pub struct ImportFilter {
    /// The destination store's ARN.
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
     files_completed, events_completed, failed_entries, created_ms, updated_ms, source_root, rowid";

fn from_row(r: &Row) -> rusqlite::Result<Result<ImportRecord, StoreError>> {
    let status: String = r.get(10)?;
    let Some(parsed) = ImportStatus::from_db(&status) else {
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
        source_root: r.get(19)?,
        num: r.get(20)?,
    }))
}

/// `import_files.state`: never finished.
pub(crate) const FILE_PENDING: i64 = 0;
/// Finished without a failure entry.
pub(crate) const FILE_DONE: i64 = 1;
/// Finished with a failure entry.
pub(crate) const FILE_FAILED: i64 = 2;
/// Finished with a failure entry before, and to be read again by a retry. It already counts in
/// `FilesCompleted` and its folder's progress, so reading it again changes neither.
pub(crate) const FILE_RETRY: i64 = 3;
/// Added to a pending state (0 or 3) while the file is read alone after a crash: a file still
/// in this state when a run starts was being read when the process died again.
pub(crate) const FILE_TRYING: i64 = 4;

/// Whether `owner` owns the running import `id`.
fn owned(tx: &rusqlite::Transaction, id: &str, owner: &str) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM imports WHERE id = ?1 AND owner = ?2 AND status IN (?3, ?4)",
        )?
        .query_row(
            params![
                id,
                owner,
                ImportStatus::Initializing.as_db(),
                ImportStatus::InProgress.as_db()
            ],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

impl Store {
    /// Creates an import in `INITIALIZING`.
    pub fn create_import(&self, new: &NewImport) -> Result<ImportRecord, StoreError> {
        self.conn.execute(
            "INSERT INTO imports (id, account, region, destination, eds_num, source_uri, \
             bucket_region, role_arn, start_ms, end_ms, status, created_ms, updated_ms, \
             source_root) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
            params![
                new.id,
                new.account,
                new.region,
                new.destination,
                new.eds_num,
                new.source_uri,
                new.bucket_region,
                new.role_arn,
                new.start_ms,
                new.end_ms,
                ImportStatus::Initializing.as_db(),
                new.now_ms,
                new.source_root
            ],
        )?;
        Ok(self.import(&new.id)?.expect("just inserted"))
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

    /// Imports matching `filter`, newest first (in the order they were created, whatever the
    /// clock said), strictly after `after` (the row number of the last one already seen), at
    /// most `limit`.
    pub fn imports(
        &self,
        filter: &ImportFilter,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ImportRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM imports WHERE (?1 IS NULL OR destination = ?1) \
             AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR account = ?3) \
             AND (?4 IS NULL OR region = ?4) \
             AND (?5 IS NULL OR rowid < ?5) \
             ORDER BY rowid DESC LIMIT ?6"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                filter.destination,
                filter.status.map(ImportStatus::as_db),
                filter.account,
                filter.region,
                after,
                limit.min(i64::MAX as usize) as i64
            ],
            from_row,
        )?;
        rows.map(|r| r?).collect()
    }

    /// Sets the status only if it is currently one of `from` and, when `owner` is given, that
    /// run still owns the import; moving to a status that is not ongoing also ends any claim.
    /// Returns whether it changed.
    pub fn transition_import(
        &self,
        id: &str,
        from: &[ImportStatus],
        to: ImportStatus,
        owner: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let current: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT status, owner FROM imports WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let ok = current.is_some_and(|(status, current_owner)| {
            ImportStatus::from_db(&status).is_some_and(|s| from.contains(&s))
                && owner.is_none_or(|o| current_owner.as_deref() == Some(o))
        });
        if ok {
            tx.execute(
                "UPDATE imports SET status = ?2, updated_ms = ?3 WHERE id = ?1",
                params![id, to.as_db(), now_ms],
            )?;
            if !to.is_ongoing() {
                tx.execute(
                    "UPDATE imports SET owner = NULL, lease_until_ms = NULL WHERE id = ?1",
                    [id],
                )?;
            }
        }
        tx.commit()?;
        Ok(ok)
    }

    /// Records one discovered folder and its files (in one transaction); counts it in
    /// `PrefixesFound`. Files are numbered on from those already recorded. Returns `false`,
    /// recording nothing, if `owner` no longer owns the import.
    pub fn add_prefix(
        &self,
        import_id: &str,
        owner: &str,
        prefix: &str,
        files: &[(String, u64)],
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        if !owned(&tx, import_id, owner)? {
            return Ok(false);
        }
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
                    (*size).min(i64::MAX as u64) as i64
                ])?;
            }
        }
        tx.execute(
            "UPDATE imports SET prefixes_found = prefixes_found + 1, updated_ms = ?2 WHERE id = ?1",
            params![import_id, now_ms],
        )?;
        tx.commit()?;
        Ok(true)
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
            // The folders an unfinished discovery could not list are listed again with the
            // rest: their entries go.
            let dropped = tx.execute(
                "DELETE FROM import_failures WHERE import_id = ?1 AND folder IS NOT NULL",
                [import_id],
            )?;
            tx.execute(
                "UPDATE imports SET failed_entries = failed_entries - ?2 WHERE id = ?1",
                params![import_id, dropped as i64],
            )?;
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

    /// Marks discovery finished; entries of a failed listing that were being retried succeed
    /// and leave `FailedEntries`. Returns `false`, changing nothing, if `owner` no longer owns
    /// the import.
    pub fn finish_discovery(
        &self,
        import_id: &str,
        owner: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        if !owned(&tx, import_id, owner)? {
            return Ok(false);
        }
        let settled = tx.execute(
            "UPDATE import_failures SET status = ?3, updated_ms = ?2 \
             WHERE import_id = ?1 AND file_no IS NULL AND folder IS NULL AND status = ?4",
            params![
                import_id,
                now_ms,
                FailureStatus::Succeeded.as_db(),
                FailureStatus::Retry.as_db()
            ],
        )?;
        tx.execute(
            "UPDATE imports SET discovered = 1, failed_entries = failed_entries - ?3, \
             updated_ms = ?2 WHERE id = ?1",
            params![import_id, now_ms, settled as i64],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Files still to read (never finished, or sent round again by a retry, and not being
    /// tried alone), in order, after `after_file_no`, at most `limit`.
    pub fn pending_files(
        &self,
        import_id: &str,
        after_file_no: i64,
        limit: usize,
    ) -> Result<Vec<PendingFile>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT file_no, key, size FROM import_files WHERE import_id = ?1 \
             AND state IN (?4, ?5) AND file_no > ?2 ORDER BY file_no LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                import_id,
                after_file_no,
                limit.min(i64::MAX as usize) as i64,
                FILE_PENDING,
                FILE_RETRY
            ],
            |r| {
                Ok(PendingFile {
                    file_no: r.get(0)?,
                    key: r.get(1)?,
                    size: r.get(2)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number and total size of the files still to read.
    pub fn pending_totals(&self, import_id: &str) -> Result<(i64, i64), StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM import_files \
             WHERE import_id = ?1 AND state IN (?2, ?3)",
            params![import_id, FILE_PENDING, FILE_RETRY],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Prepares a retry: every `FAILED` entry becomes `RETRY` and its file is to be read again.
    /// The statistics do not move: a retried entry counts in `FailedEntries` until it is
    /// settled, and its file stays in `FilesCompleted`. Returns the entries set to retry.
    pub fn prepare_retry(&self, import_id: &str, now_ms: i64) -> Result<i64, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let n = tx.execute(
            "UPDATE import_failures SET status = ?3, updated_ms = ?2 \
             WHERE import_id = ?1 AND status = ?4",
            params![
                import_id,
                now_ms,
                FailureStatus::Retry.as_db(),
                FailureStatus::Failed.as_db()
            ],
        )? as i64;
        tx.execute(
            "UPDATE import_files SET state = ?2 WHERE import_id = ?1 AND state = ?3",
            params![import_id, FILE_RETRY, FILE_FAILED],
        )?;
        tx.execute(
            "UPDATE imports SET updated_ms = ?2 WHERE id = ?1",
            params![import_id, now_ms],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Records a failure entry that belongs to no file (the bucket could not be listed, say)
    /// and counts it in `FailedEntries`; a retried entry of the same location is settled as
    /// `FAILED` again instead (it already counts).
    pub fn add_import_failure(
        &self,
        import_id: &str,
        location: &str,
        error_type: &str,
        error_message: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let retried = tx.execute(
            "UPDATE import_failures SET status = ?6, error_type = ?3, error_message = ?4, \
             updated_ms = ?5 WHERE import_id = ?1 AND file_no IS NULL AND folder IS NULL \
             AND location = ?2 AND status = ?7",
            params![
                import_id,
                location,
                error_type,
                error_message,
                now_ms,
                FailureStatus::Failed.as_db(),
                FailureStatus::Retry.as_db()
            ],
        )?;
        if retried == 0 {
            tx.execute(
                "INSERT INTO import_failures (import_id, file_no, location, status, error_type, \
                 error_message, updated_ms) VALUES (?1, NULL, ?2, ?6, ?3, ?4, ?5)",
                params![
                    import_id,
                    location,
                    error_type,
                    error_message,
                    now_ms,
                    FailureStatus::Failed.as_db()
                ],
            )?;
            tx.execute(
                "UPDATE imports SET failed_entries = failed_entries + 1 WHERE id = ?1",
                [import_id],
            )?;
        }
        tx.execute(
            "UPDATE imports SET updated_ms = ?2 WHERE id = ?1",
            params![import_id, now_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Failure entries of an import, in the order they were recorded, after the entry numbered
    /// `after_num`, at most `limit`.
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
        let rows = stmt.query_map(
            params![import_id, after_num, limit.min(i64::MAX as usize) as i64],
            |r| {
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
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (status, mut rec) = row?;
            rec.status = FailureStatus::from_db(&status).ok_or(StoreError::Corrupt {
                table: "import_failures",
                column: "status",
                value: status,
            })?;
            out.push(rec);
        }
        Ok(out)
    }

    /// Makes `owner` the one run of an ongoing import, until `lease_until_ms`, if no other run
    /// holds a lease that is still valid at `now_ms`. Returns whether it did.
    pub fn claim_import(
        &self,
        id: &str,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE imports SET owner = ?2, lease_until_ms = ?4 WHERE id = ?1 \
             AND status IN (?5, ?6) \
             AND (owner IS NULL OR owner = ?2 OR lease_until_ms IS NULL OR lease_until_ms < ?3)",
            params![
                id,
                owner,
                now_ms,
                lease_until_ms,
                ImportStatus::Initializing.as_db(),
                ImportStatus::InProgress.as_db()
            ],
        )?;
        Ok(n == 1)
    }

    /// Makes `owner` the run of an ongoing import that `previous` owned (a run whose process
    /// is known to have ended). Returns whether it did.
    pub fn take_over_import(
        &self,
        id: &str,
        previous: &str,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE imports SET owner = ?3, lease_until_ms = ?4 WHERE id = ?1 AND owner = ?2 \
             AND status IN (?5, ?6)",
            params![
                id,
                previous,
                owner,
                lease_until_ms,
                ImportStatus::Initializing.as_db(),
                ImportStatus::InProgress.as_db()
            ],
        )?;
        Ok(n == 1)
    }

    /// Extends `owner`'s lease; returns `false` if it no longer owns a running import (the
    /// import was stopped, or another run took it over).
    pub fn renew_import_lease(
        &self,
        id: &str,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE imports SET lease_until_ms = ?3 WHERE id = ?1 AND owner = ?2 \
             AND status IN (?4, ?5)",
            params![
                id,
                owner,
                lease_until_ms,
                ImportStatus::Initializing.as_db(),
                ImportStatus::InProgress.as_db()
            ],
        )?;
        Ok(n == 1)
    }

    /// Gives up `owner`'s claim on an import.
    pub fn release_import(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE imports SET owner = NULL, lease_until_ms = NULL WHERE id = ?1 AND owner = ?2",
            params![id, owner],
        )?;
        Ok(())
    }

    /// The owner of an import and until when its lease holds, if it has one.
    pub fn import_owner(&self, id: &str) -> Result<Option<(String, i64)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT owner, lease_until_ms FROM imports WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(match (r.get::<_, Option<String>>(0)?, r.get(1)?) {
                    (Some(o), Some(t)) => Some((o, t)),
                    _ => None,
                })
            })
            .optional()?
            .flatten())
    }

    /// Records that files up to `file_no` are handed to the parsers, before they are; returns
    /// `false` if `owner` no longer owns the import.
    pub fn set_dispatched(&self, id: &str, owner: &str, file_no: i64) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE imports SET dispatched_to = max(COALESCE(dispatched_to, -1), ?3) \
             WHERE id = ?1 AND owner = ?2",
            params![id, owner, file_no],
        )?;
        Ok(n == 1)
    }

    /// Forgets the dispatch mark (a run that ended cleanly left no file half read).
    pub fn clear_dispatched(&self, id: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE imports SET dispatched_to = NULL WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Files a run that did not end cleanly may have been reading: pending files up to its
    /// dispatch mark.
    pub fn suspect_files(&self, import_id: &str) -> Result<Vec<PendingFile>, StoreError> {
        self.files_where(
            import_id,
            "state IN (?2, ?3) AND file_no <= (SELECT COALESCE(dispatched_to, -1) FROM imports WHERE id = ?1)",
            FILE_PENDING,
            FILE_RETRY,
        )
    }

    /// Files that were being read alone when the process ended.
    pub fn trying_files(&self, import_id: &str) -> Result<Vec<PendingFile>, StoreError> {
        self.files_where(
            import_id,
            "state IN (?2, ?3)",
            FILE_PENDING + FILE_TRYING,
            FILE_RETRY + FILE_TRYING,
        )
    }

    fn files_where(
        &self,
        import_id: &str,
        condition: &str,
        a: i64,
        b: i64,
    ) -> Result<Vec<PendingFile>, StoreError> {
        let sql = format!(
            "SELECT file_no, key, size FROM import_files WHERE import_id = ?1 AND {condition} \
             ORDER BY file_no"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![import_id, a, b], |r| {
            Ok(PendingFile {
                file_no: r.get(0)?,
                key: r.get(1)?,
                size: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks a pending file as being read alone (durably, before it is read); returns `false`
    /// if `owner` no longer owns the import.
    pub fn mark_trying(&self, id: &str, owner: &str, file_no: i64) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        if !owned(&tx, id, owner)? {
            return Ok(false);
        }
        tx.execute(
            "UPDATE import_files SET state = state + ?3 WHERE import_id = ?1 AND file_no = ?2 \
             AND state IN (?4, ?5)",
            params![id, file_no, FILE_TRYING, FILE_PENDING, FILE_RETRY],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Records a failure entry for a folder that could not be listed (retried by listing the
    /// folder again) and counts it in `FailedEntries`.
    pub fn add_folder_failure(
        &self,
        import_id: &str,
        folder: &str,
        location: &str,
        error_type: &str,
        error_message: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO import_failures (import_id, file_no, location, status, error_type, \
             error_message, updated_ms, folder) VALUES (?1, NULL, ?2, ?6, ?3, ?4, ?5, ?7)",
            params![
                import_id,
                location,
                error_type,
                error_message,
                now_ms,
                FailureStatus::Failed.as_db(),
                folder
            ],
        )?;
        tx.execute(
            "UPDATE imports SET failed_entries = failed_entries + 1, updated_ms = ?2 WHERE id = ?1",
            params![import_id, now_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Retried entries of folders that could not be listed: (entry number, folder key).
    pub fn retried_folders(&self, import_id: &str) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT num, folder FROM import_failures WHERE import_id = ?1 AND status = ?2 \
             AND folder IS NOT NULL ORDER BY num",
        )?;
        let rows = stmt.query_map(params![import_id, FailureStatus::Retry.as_db()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Settles a retried entry that belongs to no file: `SUCCEEDED` (it leaves
    /// `FailedEntries`), or `FAILED` again with a new reason (it stays counted).
    pub fn settle_entry(
        &self,
        import_id: &str,
        num: i64,
        failure: Option<(&str, &str)>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let changed = match failure {
            None => tx.execute(
                "UPDATE import_failures SET status = ?4, updated_ms = ?3 \
                 WHERE import_id = ?1 AND num = ?2 AND status = ?5",
                params![
                    import_id,
                    num,
                    now_ms,
                    FailureStatus::Succeeded.as_db(),
                    FailureStatus::Retry.as_db()
                ],
            )?,
            Some((error_type, message)) => {
                tx.execute(
                    "UPDATE import_failures SET status = ?6, error_type = ?4, error_message = ?5, \
                     updated_ms = ?3 WHERE import_id = ?1 AND num = ?2 AND status = ?7",
                    params![
                        import_id,
                        num,
                        now_ms,
                        error_type,
                        message,
                        FailureStatus::Failed.as_db(),
                        FailureStatus::Retry.as_db()
                    ],
                )?;
                0
            }
        };
        tx.execute(
            "UPDATE imports SET failed_entries = failed_entries - ?2, updated_ms = ?3 WHERE id = ?1",
            params![import_id, changed as i64, now_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Retried entries of a run that could not go on (no file, no folder): settled as
    /// `SUCCEEDED` once a run went through.
    pub fn settle_run_entries(&self, import_id: &str, now_ms: i64) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let n = tx.execute(
            "UPDATE import_failures SET status = ?3, updated_ms = ?2 WHERE import_id = ?1 \
             AND status = ?4 AND file_no IS NULL AND folder IS NULL",
            params![
                import_id,
                now_ms,
                FailureStatus::Succeeded.as_db(),
                FailureStatus::Retry.as_db()
            ],
        )?;
        tx.execute(
            "UPDATE imports SET failed_entries = failed_entries - ?2 WHERE id = ?1",
            params![import_id, n as i64],
        )?;
        tx.commit()?;
        Ok(())
    }
}
