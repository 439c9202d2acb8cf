//! CloudWatch Logs: import tasks copying a store's events into a log group, hour by hour, and
//! the groups, streams and log events they write. A log event points at its stored event: its
//! message is that record's bytes, read from the log file, never copied.

use crate::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};

/// The status of an import task or of one of its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogTaskStatus {
    InProgress,
    Cancelled,
    Completed,
    Failed,
}

impl LogTaskStatus {
    pub const ALL: [LogTaskStatus; 4] = [
        Self::InProgress,
        Self::Cancelled,
        Self::Completed,
        Self::Failed,
    ];

    fn as_db(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Cancelled => "CANCELLED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_db() == s)
    }
}

fn status_of(table: &'static str, s: String) -> Result<LogTaskStatus, StoreError> {
    LogTaskStatus::from_db(&s).ok_or(StoreError::Corrupt {
        table,
        column: "status",
        value: s,
    })
}

/// Why a task could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTaskBusy {
    /// The store has this task in progress.
    Store(String),
    /// The account and Region have this many tasks in progress.
    Scope(usize),
}

/// What is needed to create an import task.
#[derive(Debug, Clone)]
pub struct NewLogTask {
    pub id: String,
    pub account: String,
    pub region: String,
    pub source_arn: String,
    pub eds_num: i64,
    pub destination_arn: String,
    pub role_arn: String,
    /// The filter as asked.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// The range imported, after clamping (inclusive).
    pub from_ms: i64,
    pub to_ms: i64,
    /// The store's last event when the task was created: it covers no later one.
    pub max_event: i64,
    pub now_ms: i64,
}

/// An import task row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTask {
    pub id: String,
    pub account: String,
    pub region: String,
    pub source_arn: String,
    pub eds_num: i64,
    pub destination_arn: String,
    pub role_arn: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub max_event: i64,
    pub status: LogTaskStatus,
    pub bytes_imported: i64,
    pub error_message: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// The row number: later tasks have larger ones.
    pub num: i64,
}

const TASK_COLUMNS: &str = "id, account, region, source_arn, eds_num, destination_arn, role_arn, \
     start_ms, end_ms, from_ms, to_ms, max_event, status, bytes_imported, error_message, \
     created_ms, updated_ms, rowid";

fn task_row(r: &Row) -> rusqlite::Result<(LogTask, String)> {
    Ok((
        LogTask {
            id: r.get(0)?,
            account: r.get(1)?,
            region: r.get(2)?,
            source_arn: r.get(3)?,
            eds_num: r.get(4)?,
            destination_arn: r.get(5)?,
            role_arn: r.get(6)?,
            start_ms: r.get(7)?,
            end_ms: r.get(8)?,
            from_ms: r.get(9)?,
            to_ms: r.get(10)?,
            max_event: r.get(11)?,
            status: LogTaskStatus::InProgress,
            bytes_imported: r.get(13)?,
            error_message: r.get(14)?,
            created_ms: r.get(15)?,
            updated_ms: r.get(16)?,
            num: r.get(17)?,
        },
        r.get(12)?,
    ))
}

fn task_of(row: (LogTask, String)) -> Result<LogTask, StoreError> {
    let (mut task, status) = row;
    task.status = status_of("log_tasks", status)?;
    Ok(task)
}

/// Which tasks to list; every filter that is set must hold.
#[derive(Debug, Clone, Default)]
pub struct LogTaskFilter {
    pub account: Option<String>,
    pub region: Option<String>,
    pub id: Option<String>,
    pub status: Option<LogTaskStatus>,
    pub source_arn: Option<String>,
    pub eds_num: Option<i64>,
}

/// One batch of a task: the events of one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBatch {
    pub batch_no: i64,
    pub batch_id: String,
    pub hour_ms: i64,
    pub status: LogTaskStatus,
    pub error_message: Option<String>,
}

/// A log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub num: i64,
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub class: String,
    pub created_ms: i64,
    pub stored_bytes: i64,
}

const GROUP_COLUMNS: &str = "num, account, region, name, arn, class, created_ms, stored_bytes";

fn group_row(r: &Row) -> rusqlite::Result<LogGroup> {
    Ok(LogGroup {
        num: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        arn: r.get(4)?,
        class: r.get(5)?,
        created_ms: r.get(6)?,
        stored_bytes: r.get(7)?,
    })
}

/// A log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStream {
    pub num: i64,
    pub name: String,
    pub created_ms: i64,
    pub first_event_ms: Option<i64>,
    pub last_event_ms: Option<i64>,
    pub last_ingestion_ms: Option<i64>,
}

const STREAM_COLUMNS: &str =
    "num, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms";

fn stream_row(r: &Row) -> rusqlite::Result<LogStream> {
    Ok(LogStream {
        num: r.get(0)?,
        name: r.get(1)?,
        created_ms: r.get(2)?,
        first_event_ms: r.get(3)?,
        last_event_ms: r.get(4)?,
        last_ingestion_ms: r.get(5)?,
    })
}

/// How streams are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOrder {
    Name,
    LastEventTime,
}

/// Where a page of log events ended: the last event's timestamp and number.
pub type LogPosition = (i64, i64);

/// Which log events to read: a group, some of its streams, or one stream, strictly between two
/// positions (in `(timestamp, number)` order).
#[derive(Debug, Clone)]
pub struct LogEventRange {
    pub scope: LogEventScope,
    /// Events after this position only.
    pub after: LogPosition,
    /// Events before this position only.
    pub before: LogPosition,
}

/// Whose log events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEventScope {
    /// Every stream of a group.
    Group(i64),
    /// Some streams of a group (by number).
    Streams(i64, Vec<i64>),
    /// One stream.
    Stream(i64),
}

/// Before every log event.
pub const FIRST_POSITION: LogPosition = (i64::MIN, i64::MIN);
/// After every log event.
pub const LAST_POSITION: LogPosition = (i64::MAX, i64::MAX);

/// One log event with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventRow {
    pub num: i64,
    pub stream: String,
    pub timestamp_ms: i64,
    pub ingestion_ms: i64,
    /// The stored record, byte for byte.
    pub message: Vec<u8>,
}

impl Store {
    /// The hours (epoch ms of each hour's start) holding events of a store up to `max_event`
    /// with an `eventTime` in `[from_ms, to_ms]`.
    pub fn event_hours(
        &self,
        eds_num: i64,
        max_event: i64,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT e.event_time - (e.event_time % 3600000) AS hour FROM events e \
             JOIN log_files l ON l.num = e.log_file WHERE l.eds_num = ?1 AND e.num <= ?2 \
             AND e.event_time BETWEEN ?3 AND ?4 ORDER BY hour",
        )?;
        let rows = stmt.query_map(params![eds_num, max_event, from_ms, to_ms], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The number of the last event stored (0 when none).
    pub fn last_event(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(num), 0) FROM events", [], |r| r.get(0))?)
    }

    /// Creates a task `IN_PROGRESS` with one batch per hour (`batch_ids` beside `hours`), and
    /// its log group if it has none, in one transaction — unless the store already has a task
    /// in progress, or its account and Region have `max_in_progress`; the check and the insert
    /// are one transaction, so two processes cannot both pass it.
    pub fn create_log_task(
        &self,
        new: &NewLogTask,
        group: &LogGroup,
        hours: &[i64],
        batch_ids: &[String],
        max_in_progress: usize,
    ) -> Result<Result<LogTask, LogTaskBusy>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let busy_store: Option<String> = tx
            .query_row(
                "SELECT id FROM log_tasks WHERE eds_num = ?1 AND status = ?2 LIMIT 1",
                params![new.eds_num, LogTaskStatus::InProgress.as_db()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = busy_store {
            return Ok(Err(LogTaskBusy::Store(id)));
        }
        let in_scope: i64 = tx.query_row(
            "SELECT COUNT(*) FROM log_tasks WHERE account = ?1 AND region = ?2 AND status = ?3",
            params![new.account, new.region, LogTaskStatus::InProgress.as_db()],
            |r| r.get(0),
        )?;
        if in_scope as usize >= max_in_progress {
            return Ok(Err(LogTaskBusy::Scope(in_scope as usize)));
        }
        tx.execute(
            "INSERT OR IGNORE INTO log_groups (account, region, name, arn, class, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                group.account,
                group.region,
                group.name,
                group.arn,
                group.class,
                new.now_ms
            ],
        )?;
        tx.execute(
            "INSERT INTO log_tasks (id, account, region, source_arn, eds_num, destination_arn, \
             role_arn, start_ms, end_ms, from_ms, to_ms, max_event, status, created_ms, \
             updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
            params![
                new.id,
                new.account,
                new.region,
                new.source_arn,
                new.eds_num,
                new.destination_arn,
                new.role_arn,
                new.start_ms,
                new.end_ms,
                new.from_ms,
                new.to_ms,
                new.max_event,
                LogTaskStatus::InProgress.as_db(),
                new.now_ms
            ],
        )?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO log_task_batches (task_id, batch_no, batch_id, hour_ms, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (i, (hour, batch_id)) in hours.iter().zip(batch_ids).enumerate() {
                stmt.execute(params![
                    new.id,
                    i as i64,
                    batch_id,
                    hour,
                    LogTaskStatus::InProgress.as_db()
                ])?;
            }
        }
        tx.commit()?;
        Ok(Ok(self.log_task(&new.id)?.expect("just inserted")))
    }

    pub fn log_task(&self, id: &str) -> Result<Option<LogTask>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM log_tasks WHERE id = ?1");
        self.conn
            .prepare_cached(&sql)?
            .query_row([id], task_row)
            .optional()?
            .map(task_of)
            .transpose()
    }

    /// Tasks matching `filter`, newest first, after the task numbered `after`, at most `limit`.
    pub fn log_tasks(
        &self,
        filter: &LogTaskFilter,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<LogTask>, StoreError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM log_tasks WHERE (?1 IS NULL OR account = ?1) \
             AND (?2 IS NULL OR region = ?2) AND (?3 IS NULL OR id = ?3) \
             AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR source_arn = ?5) \
             AND (?6 IS NULL OR eds_num = ?6) AND (?7 IS NULL OR rowid < ?7) \
             ORDER BY rowid DESC LIMIT ?8"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                filter.account,
                filter.region,
                filter.id,
                filter.status.map(LogTaskStatus::as_db),
                filter.source_arn,
                filter.eds_num,
                after,
                limit.min(i64::MAX as usize) as i64
            ],
            task_row,
        )?;
        rows.map(|r| task_of(r?)).collect()
    }

    /// A task's batches with one of `statuses` (all when empty), in hour order, after the
    /// batch numbered `after`, at most `limit`.
    pub fn log_task_batches(
        &self,
        task_id: &str,
        statuses: &[LogTaskStatus],
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<LogBatch>, StoreError> {
        let wanted: Vec<&str> = statuses.iter().map(|s| s.as_db()).collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT batch_no, batch_id, hour_ms, status, error_message FROM log_task_batches \
             WHERE task_id = ?1 AND batch_no > ?2 ORDER BY batch_no",
        )?;
        let mut rows = stmt.query(params![task_id, after.unwrap_or(-1)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let status: String = r.get(3)?;
            if !wanted.is_empty() && !wanted.contains(&status.as_str()) {
                continue;
            }
            out.push(LogBatch {
                batch_no: r.get(0)?,
                batch_id: r.get(1)?,
                hour_ms: r.get(2)?,
                status: status_of("log_task_batches", status)?,
                error_message: r.get(4)?,
            });
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Cancels an `IN_PROGRESS` task and its unwritten batches in one transaction; returns
    /// whether it was in progress.
    pub fn cancel_log_task(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let n = tx.execute(
            "UPDATE log_tasks SET status = ?2, updated_ms = ?3, owner = NULL, \
             lease_until_ms = NULL WHERE id = ?1 AND status = ?4",
            params![
                id,
                LogTaskStatus::Cancelled.as_db(),
                now_ms,
                LogTaskStatus::InProgress.as_db()
            ],
        )?;
        if n == 1 {
            tx.execute(
                "UPDATE log_task_batches SET status = ?2 WHERE task_id = ?1 AND status = ?3",
                params![
                    id,
                    LogTaskStatus::Cancelled.as_db(),
                    LogTaskStatus::InProgress.as_db()
                ],
            )?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Writes one batch of a task: the events of its hour (within the task's range and up to
    /// its last event) become log events of `group`, in streams named
    /// `ACCOUNT_CloudTrail_REGION` (the record's `recipientAccountId` and `awsRegion`, else the
    /// defaults), all in one transaction with the batch's `COMPLETED` mark, the task's
    /// `bytesImported` and the group's stored bytes. Only while the task is in progress and
    /// `owner` runs it: returns `false`, writing nothing, otherwise. Returns the bytes written.
    #[allow(clippy::too_many_arguments)]
    pub fn write_log_batch(
        &self,
        task: &LogTask,
        owner: &str,
        batch_no: i64,
        group_num: i64,
        default_account: &str,
        default_region: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let running = tx
            .query_row(
                "SELECT 1 FROM log_tasks WHERE id = ?1 AND status = ?2 AND owner = ?3",
                params![task.id, LogTaskStatus::InProgress.as_db(), owner],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        let hour: Option<(i64, String)> = tx
            .query_row(
                "SELECT hour_ms, status FROM log_task_batches WHERE task_id = ?1 AND batch_no = ?2",
                params![task.id, batch_no],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((hour_ms, status)) = hour else {
            return Ok(None);
        };
        if !running || status != LogTaskStatus::InProgress.as_db() {
            return Ok(None);
        }
        let from = hour_ms.max(task.from_ms);
        let to = (hour_ms + 3_599_999).min(task.to_ms);
        // The events of the hour, with the name of their stream, into a scratch table.
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS batch_events (event_num INTEGER, time INTEGER, \
             len INTEGER, stream TEXT); DELETE FROM batch_events;",
        )?;
        tx.execute(
            "INSERT INTO batch_events (event_num, time, len, stream) \
             SELECT e.num, e.event_time, e.len, \
                    COALESCE(a.value, ?5) || '_CloudTrail_' || COALESCE(r.value, ?6) \
             FROM events e JOIN log_files l ON l.num = e.log_file \
             LEFT JOIN strings a ON a.num = e.account LEFT JOIN strings r ON r.num = e.region \
             WHERE e.event_time BETWEEN ?1 AND ?2 AND l.eds_num = ?3 AND e.num <= ?4",
            params![
                from,
                to,
                task.eds_num,
                task.max_event,
                default_account,
                default_region
            ],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO log_streams (group_num, name, created_ms) \
             SELECT DISTINCT ?1, stream, ?2 FROM batch_events",
            params![group_num, now_ms],
        )?;
        tx.execute(
            "INSERT INTO log_events (group_num, stream_num, timestamp_ms, ingestion_ms, event_num) \
             SELECT ?1, s.num, b.time, ?2, b.event_num FROM batch_events b \
             JOIN log_streams s ON s.group_num = ?1 AND s.name = b.stream \
             ORDER BY b.time, b.event_num",
            params![group_num, now_ms],
        )?;
        tx.execute(
            "UPDATE log_streams SET \
               first_event_ms = min(COALESCE(first_event_ms, x.lo), x.lo), \
               last_event_ms = max(COALESCE(last_event_ms, x.hi), x.hi), \
               last_ingestion_ms = ?2 \
             FROM (SELECT stream, min(time) AS lo, max(time) AS hi FROM batch_events GROUP BY stream) x \
             WHERE log_streams.group_num = ?1 AND log_streams.name = x.stream",
            params![group_num, now_ms],
        )?;
        let bytes: i64 =
            tx.query_row("SELECT COALESCE(SUM(len), 0) FROM batch_events", [], |r| {
                r.get(0)
            })?;
        tx.execute("DELETE FROM batch_events", [])?;
        tx.execute(
            "UPDATE log_task_batches SET status = ?3 WHERE task_id = ?1 AND batch_no = ?2",
            params![task.id, batch_no, LogTaskStatus::Completed.as_db()],
        )?;
        tx.execute(
            "UPDATE log_tasks SET bytes_imported = bytes_imported + ?2, updated_ms = ?3 \
             WHERE id = ?1",
            params![task.id, bytes, now_ms],
        )?;
        tx.execute(
            "UPDATE log_groups SET stored_bytes = stored_bytes + ?2 WHERE num = ?1",
            params![group_num, bytes],
        )?;
        tx.commit()?;
        Ok(Some(bytes))
    }

    /// Marks a batch `FAILED` with a reason (the task goes on).
    pub fn fail_log_batch(
        &self,
        task_id: &str,
        batch_no: i64,
        message: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE log_task_batches SET status = ?3, error_message = ?4 \
             WHERE task_id = ?1 AND batch_no = ?2 AND status = ?5",
            params![
                task_id,
                batch_no,
                LogTaskStatus::Failed.as_db(),
                message,
                LogTaskStatus::InProgress.as_db()
            ],
        )?;
        Ok(())
    }

    /// Ends an `IN_PROGRESS` task `owner` runs: `COMPLETED`, or `FAILED` with a reason when a
    /// batch failed.
    pub fn finish_log_task(
        &self,
        id: &str,
        owner: &str,
        error_message: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let status = if error_message.is_some() {
            LogTaskStatus::Failed
        } else {
            LogTaskStatus::Completed
        };
        let n = self.conn.execute(
            "UPDATE log_tasks SET status = ?3, error_message = ?4, updated_ms = ?5, owner = NULL, \
             lease_until_ms = NULL WHERE id = ?1 AND owner = ?2 AND status = ?6",
            params![
                id,
                owner,
                status.as_db(),
                error_message,
                now_ms,
                LogTaskStatus::InProgress.as_db()
            ],
        )?;
        Ok(n == 1)
    }

    /// Makes `owner` the one run of an in-progress task until `lease_until_ms`, if no other
    /// run holds a valid lease at `now_ms` (or `previous`, a run known to be gone, held it).
    pub fn claim_log_task(
        &self,
        id: &str,
        owner: &str,
        previous: Option<&str>,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE log_tasks SET owner = ?2, lease_until_ms = ?4 WHERE id = ?1 AND status = ?5 \
             AND (owner IS NULL OR owner = ?2 OR owner = ?6 OR lease_until_ms < ?3)",
            params![
                id,
                owner,
                now_ms,
                lease_until_ms,
                LogTaskStatus::InProgress.as_db(),
                previous
            ],
        )?;
        Ok(n == 1)
    }

    /// Extends `owner`'s lease on a task still in progress; `false` if it lost it.
    pub fn renew_log_task(
        &self,
        id: &str,
        owner: &str,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE log_tasks SET lease_until_ms = ?3 WHERE id = ?1 AND owner = ?2 AND status = ?4",
            params![id, owner, lease_until_ms, LogTaskStatus::InProgress.as_db()],
        )?;
        Ok(n == 1)
    }

    /// Gives up `owner`'s claim on a task.
    pub fn release_log_task(&self, id: &str, owner: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE log_tasks SET owner = NULL, lease_until_ms = NULL WHERE id = ?1 AND owner = ?2",
            params![id, owner],
        )?;
        Ok(())
    }

    /// The owner of a task and until when its lease holds, if it has one.
    pub fn log_task_owner(&self, id: &str) -> Result<Option<(String, i64)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT owner, lease_until_ms FROM log_tasks WHERE id = ?1",
                [id],
                |r| {
                    Ok(match (r.get::<_, Option<String>>(0)?, r.get(1)?) {
                        (Some(o), Some(t)) => Some((o, t)),
                        _ => None,
                    })
                },
            )
            .optional()?
            .flatten())
    }

    /// The group of an account and Region with this name.
    pub fn log_group(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<LogGroup>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM log_groups WHERE account = ?1 AND region = ?2 AND name = ?3"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(params![account, region, name], group_row)
            .optional()?)
    }

    /// Groups of an account and Region whose name starts with `prefix` and contains `pattern`
    /// (ASCII case ignored) if given, in byte order of their names, after `after` (a name), at
    /// most `limit`.
    pub fn log_groups(
        &self,
        account: &str,
        region: &str,
        prefix: &str,
        pattern: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LogGroup>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM log_groups WHERE account = ?1 AND region = ?2 \
             AND substr(name, 1, length(?3)) = ?3 AND (?4 IS NULL OR name > ?4) \
             AND (?6 IS NULL OR instr(lower(name), lower(?6)) > 0) ORDER BY name LIMIT ?5"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                account,
                region,
                prefix,
                after,
                limit.min(i64::MAX as usize) as i64,
                pattern
            ],
            group_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Drops a group, its streams and its events, unless a task in progress writes to it
    /// (checked in the same transaction); returns whether it was dropped.
    pub fn delete_log_group(&self, group: &LogGroup) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let writing = tx
            .query_row(
                "SELECT 1 FROM log_tasks WHERE destination_arn = ?1 AND status = ?2 LIMIT 1",
                params![group.arn, LogTaskStatus::InProgress.as_db()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if writing {
            return Ok(false);
        }
        tx.execute("DELETE FROM log_events WHERE group_num = ?1", [group.num])?;
        tx.execute("DELETE FROM log_streams WHERE group_num = ?1", [group.num])?;
        tx.execute("DELETE FROM log_groups WHERE num = ?1", [group.num])?;
        tx.commit()?;
        Ok(true)
    }

    /// Streams of a group whose name starts with `prefix`, by name or by last event time,
    /// after the stream `after` of the previous page, at most `limit`.
    pub fn log_streams(
        &self,
        group_num: i64,
        prefix: &str,
        order: StreamOrder,
        descending: bool,
        after: Option<&LogStream>,
        limit: usize,
    ) -> Result<Vec<LogStream>, StoreError> {
        let (key, cmp) = match (order, descending) {
            (StreamOrder::Name, false) => ("name", ">"),
            (StreamOrder::Name, true) => ("name", "<"),
            (StreamOrder::LastEventTime, false) => ("COALESCE(last_event_ms, -1)", ">"),
            (StreamOrder::LastEventTime, true) => ("COALESCE(last_event_ms, -1)", "<"),
        };
        let dir = if descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {STREAM_COLUMNS} FROM log_streams WHERE group_num = ?1 AND substr(name, 1, length(?2)) = ?2 \
             AND (?3 IS NULL OR ({key}, num) {cmp} (?4, ?3)) \
             ORDER BY {key} {dir}, num {dir} LIMIT ?5"
        );
        let after_key: Option<rusqlite::types::Value> = after.map(|s| match order {
            StreamOrder::Name => rusqlite::types::Value::Text(s.name.clone()),
            StreamOrder::LastEventTime => {
                rusqlite::types::Value::Integer(s.last_event_ms.unwrap_or(-1))
            }
        });
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                group_num,
                prefix,
                after.map(|s| s.num),
                after_key,
                limit.min(i64::MAX as usize) as i64
            ],
            stream_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A stream by number.
    pub fn log_stream_by_num(&self, num: i64) -> Result<Option<LogStream>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {STREAM_COLUMNS} FROM log_streams WHERE num = ?1"
            ))?
            .query_row([num], stream_row)
            .optional()?)
    }

    /// A stream of a group by name.
    pub fn log_stream(&self, group_num: i64, name: &str) -> Result<Option<LogStream>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {STREAM_COLUMNS} FROM log_streams WHERE group_num = ?1 AND name = ?2"
            ))?
            .query_row(params![group_num, name], stream_row)
            .optional()?)
    }

    /// Log events of `range` in time order (timestamp, then number), or newest first when
    /// `descending`; at most `limit`, and no more than `max_bytes` of messages (but at least
    /// one event), with their messages.
    pub fn log_events(
        &self,
        range: &LogEventRange,
        descending: bool,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<LogEventRow>, StoreError> {
        let (sql, key) = log_events_sql(range, descending);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![
            key,
            range.after.0,
            range.after.1,
            range.before.0,
            range.before.1,
            limit.min(i64::MAX as usize) as i64
        ])?;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while let Some(r) = rows.next()? {
            let log_file: i64 = r.get(4)?;
            let (offset, len): (usize, usize) = (r.get(5)?, r.get(6)?);
            if !out.is_empty() && bytes + len > max_bytes {
                break;
            }
            bytes += len;
            let message = self.record_bytes(log_file, offset, len)?;
            out.push(LogEventRow {
                num: r.get(0)?,
                stream: r.get(1)?,
                timestamp_ms: r.get(2)?,
                ingestion_ms: r.get(3)?,
                message,
            });
        }
        Ok(out)
    }

    /// How SQLite reads the log events of `range` (`EXPLAIN QUERY PLAN`, one step a line), so
    /// a test can see that a read stays within its group's or stream's index.
    pub fn log_events_plan(&self, range: &LogEventRange) -> Result<String, StoreError> {
        let (sql, key) = log_events_sql(range, false);
        let mut stmt = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = stmt.query_map(
            params![
                key,
                range.after.0,
                range.after.1,
                range.before.0,
                range.before.1,
                1
            ],
            |r| r.get::<_, String>(3),
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?.join("\n"))
    }
}

/// The statement reading `range`, and the group or stream number it binds first. One stream
/// reads its own index; a group (or a few of its streams) the group's, in time order, so
/// neither visits another group's events, and the positions bound the index range.
fn log_events_sql(range: &LogEventRange, descending: bool) -> (String, i64) {
    let (index, column, key, streams) = match &range.scope {
        LogEventScope::Group(g) => ("log_events_by_group", "group_num", *g, None),
        LogEventScope::Streams(g, s) => ("log_events_by_group", "group_num", *g, Some(s)),
        LogEventScope::Stream(s) => ("log_events_by_stream", "stream_num", *s, None),
    };
    let stream_clause = match streams {
        Some(list) => format!(
            "AND le.stream_num IN ({})",
            list.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        None => String::new(),
    };
    let order = if descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT le.num, s.name, le.timestamp_ms, le.ingestion_ms, e.log_file, e.offset, e.len \
         FROM log_events le INDEXED BY {index} \
         JOIN log_streams s ON s.num = le.stream_num JOIN events e ON e.num = le.event_num \
         WHERE le.{column} = ?1 {stream_clause} \
         AND (le.timestamp_ms, le.num) > (?2, ?3) AND (le.timestamp_ms, le.num) < (?4, ?5) \
         ORDER BY le.timestamp_ms {order}, le.num {order} LIMIT ?6"
    );
    (sql, key)
}
