//! Lake queries: each query's statement, status and statistics, the stores it reads, and its
//! result rows (already rendered cells, in result order), kept until they expire.

use crate::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};

/// A query's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryStatus {
    Queued,
    Running,
    Finished,
    Failed,
    Cancelled,
    TimedOut,
}

impl QueryStatus {
    pub const ALL: [QueryStatus; 6] = [
        Self::Queued,
        Self::Running,
        Self::Finished,
        Self::Failed,
        Self::Cancelled,
        Self::TimedOut,
    ];

    fn as_db(self) -> &'static str {
        match self {
            Self::Queued => "QUEUED",
            Self::Running => "RUNNING",
            Self::Finished => "FINISHED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
            Self::TimedOut => "TIMED_OUT",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_db() == s)
    }

    /// QUEUED or RUNNING.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

/// What is needed to record a new query.
#[derive(Debug, Clone)]
pub struct NewQuery {
    pub id: String,
    pub account: String,
    pub region: String,
    pub statement: String,
    /// Whether `FROM` may name stores by name (the command line).
    pub names: bool,
    pub delivery_uri: Option<String>,
    /// Result column names, in order.
    pub columns: Vec<String>,
    /// The stores it reads.
    pub stores: Vec<i64>,
    pub owner: String,
    pub now_ms: i64,
}

/// A query row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRecord {
    pub id: String,
    pub account: String,
    pub region: String,
    pub statement: String,
    pub names: bool,
    pub status: QueryStatus,
    pub error_message: Option<String>,
    pub delivery_uri: Option<String>,
    pub delivery_status: Option<String>,
    pub columns: Vec<String>,
    pub stats: QueryStats,
    pub created_ms: i64,
    pub ended_ms: Option<i64>,
    pub owner: Option<String>,
}

/// A query's statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    pub events_scanned: i64,
    pub events_matched: i64,
    pub bytes_scanned: i64,
    pub results_count: i64,
    pub exec_ms: i64,
}

/// Which queries to list.
#[derive(Debug, Clone, Default)]
pub struct QueryFilter {
    pub account: String,
    pub region: String,
    pub eds_num: i64,
    /// Created at or after / at or before (epoch ms).
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub status: Option<QueryStatus>,
    /// Keyset position: queries older than this (created_ms, id), newest first.
    pub before: Option<(i64, String)>,
    pub limit: usize,
}

const COLUMNS: &str = "id, account, region, statement, status, error_message, delivery_uri, \
    delivery_status, columns, events_scanned, events_matched, bytes_scanned, results_count, \
    exec_ms, created_ms, ended_ms, owner, names";

fn query_of(r: &Row<'_>) -> Result<QueryRecord, StoreError> {
    let status: String = r.get(4)?;
    let columns: String = r.get(8)?;
    Ok(QueryRecord {
        id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        statement: r.get(3)?,
        status: QueryStatus::from_db(&status).ok_or(StoreError::Corrupt {
            table: "queries",
            column: "status",
            value: status.clone(),
        })?,
        error_message: r.get(5)?,
        delivery_uri: r.get(6)?,
        delivery_status: r.get(7)?,
        columns: serde_json::from_str(&columns).map_err(|_| StoreError::Corrupt {
            table: "queries",
            column: "columns",
            value: columns.clone(),
        })?,
        stats: QueryStats {
            events_scanned: r.get(9)?,
            events_matched: r.get(10)?,
            bytes_scanned: r.get(11)?,
            results_count: r.get(12)?,
            exec_ms: r.get(13)?,
        },
        created_ms: r.get(14)?,
        ended_ms: r.get(15)?,
        owner: r.get(16)?,
        names: r.get(17)?,
    })
}

impl Store {
    /// Makes the index Lake queries group and filter `eventName` by (`events_by_name`), if the
    /// database does not have it yet. It is made on the first query rather than by a migration
    /// because every import would pay for keeping it: a store that is only imported never has it.
    pub fn prepare_for_queries(&self) -> Result<(), StoreError> {
        self.restore_event_indexes()?;
        self.conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS events_by_name ON events(name, log_file, len)",
        )?;
        Ok(())
    }

    /// Records a QUEUED query, unless its account and Region already have `max_active` queries
    /// QUEUED or RUNNING (then `Ok(false)`, nothing written). Checked and written in one
    /// transaction, so two processes cannot both take the last place.
    pub fn create_query(&self, q: &NewQuery, max_active: usize) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let active: i64 = tx.query_row(
            "SELECT COUNT(*) FROM queries WHERE account = ?1 AND region = ?2 \
             AND status IN ('QUEUED', 'RUNNING')",
            params![q.account, q.region],
            |r| r.get(0),
        )?;
        if active as usize >= max_active {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO queries (id, account, region, statement, status, delivery_uri, \
             delivery_status, columns, created_ms, owner, names) \
             VALUES (?1, ?2, ?3, ?4, 'QUEUED', ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                q.id,
                q.account,
                q.region,
                q.statement,
                q.delivery_uri,
                q.delivery_uri.as_ref().map(|_| "PENDING"),
                serde_json::to_string(&q.columns).expect("strings serialise"),
                q.now_ms,
                q.owner,
                q.names,
            ],
        )?;
        for eds in &q.stores {
            tx.execute(
                "INSERT OR IGNORE INTO query_stores (eds_num, query_id) VALUES (?1, ?2)",
                params![eds, q.id],
            )?;
        }
        tx.commit()?;
        Ok(true)
    }

    pub fn query(&self, id: &str) -> Result<Option<QueryRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM queries WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(r) => Ok(Some(query_of(r)?)),
            None => Ok(None),
        }
    }

    /// QUEUED → RUNNING; false when the query is no longer queued (cancelled).
    pub fn start_query_run(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "UPDATE queries SET status = 'RUNNING' WHERE id = ?1 AND status = 'QUEUED'",
            [id],
        )? == 1)
    }

    /// Appends result rows (each a JSON array of cells) numbered from `first` (the first row
    /// of a query is 1), while the query
    /// runs; false (nothing written) once it has ended (cancelled).
    pub fn append_query_rows(
        &self,
        id: &str,
        first: i64,
        rows: &[String],
    ) -> Result<bool, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let running: Option<String> = tx
            .query_row(
                "SELECT status FROM queries WHERE id = ?1 AND status = 'RUNNING'",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        if running.is_none() {
            return Ok(false);
        }
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO query_rows (query_id, row_no, cells) VALUES (?1, ?2, ?3)",
            )?;
            for (i, row) in rows.iter().enumerate() {
                stmt.execute(params![id, first + i as i64, row])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }

    /// Ends an active query with `status`; false when it had already ended (a cancel won).
    pub fn end_query(
        &self,
        id: &str,
        status: QueryStatus,
        error: Option<&str>,
        stats: &QueryStats,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.conn.execute(
            "UPDATE queries SET status = ?2, error_message = ?3, events_scanned = ?4, \
             events_matched = ?5, bytes_scanned = ?6, results_count = ?7, exec_ms = ?8, \
             ended_ms = ?9 WHERE id = ?1 AND status IN ('QUEUED', 'RUNNING')",
            params![
                id,
                status.as_db(),
                error,
                stats.events_scanned,
                stats.events_matched,
                stats.bytes_scanned,
                stats.results_count,
                stats.exec_ms,
                now_ms
            ],
        )? == 1)
    }

    /// Records how delivering the results ended (`SUCCESS` or `FAILED`).
    pub fn set_query_delivery(&self, id: &str, status: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE queries SET delivery_status = ?2 WHERE id = ?1",
            params![id, status],
        )?;
        Ok(())
    }

    /// QUEUED or RUNNING → CANCELLED; the status after the call, or None if there is no such
    /// query.
    pub fn cancel_query(&self, id: &str, now_ms: i64) -> Result<Option<QueryStatus>, StoreError> {
        self.conn.execute(
            "UPDATE queries SET status = 'CANCELLED', ended_ms = ?2 \
             WHERE id = ?1 AND status IN ('QUEUED', 'RUNNING')",
            params![id, now_ms],
        )?;
        Ok(self.query(id)?.map(|q| q.status))
    }

    /// Result rows `after + 1 ..= after + limit` (JSON arrays of cells).
    pub fn query_rows(
        &self,
        id: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT cells FROM query_rows WHERE query_id = ?1 AND row_no > ?2 \
             ORDER BY row_no LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![id, after, limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queries of one store, newest first.
    pub fn queries(&self, f: &QueryFilter) -> Result<Vec<QueryRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM queries q JOIN query_stores s ON s.query_id = q.id \
             WHERE s.eds_num = ?1 AND q.account = ?2 AND q.region = ?3 \
             AND (?4 IS NULL OR q.created_ms >= ?4) AND (?5 IS NULL OR q.created_ms <= ?5) \
             AND (?6 IS NULL OR q.status = ?6) \
             AND (?7 IS NULL OR q.created_ms < ?7 OR (q.created_ms = ?7 AND q.id < ?8)) \
             ORDER BY q.created_ms DESC, q.id DESC LIMIT ?9",
            COLUMNS
                .split(", ")
                .map(|c| format!("q.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params![
            f.eds_num,
            f.account,
            f.region,
            f.from_ms,
            f.to_ms,
            f.status.map(QueryStatus::as_db),
            f.before.as_ref().map(|b| b.0),
            f.before.as_ref().map(|b| b.1.clone()),
            f.limit as i64
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(query_of(r)?);
        }
        Ok(out)
    }

    /// Active queries whose owner is not `alive` end FAILED with `message` (their process
    /// stopped); returns how many.
    pub fn fail_orphaned_queries(
        &self,
        alive: &dyn Fn(&str) -> bool,
        message: &str,
        now_ms: i64,
    ) -> Result<usize, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, owner FROM queries WHERE status IN ('QUEUED', 'RUNNING')")?;
        let active: Vec<(String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut n = 0;
        for (id, owner) in active {
            if owner.as_deref().is_some_and(alive) {
                continue;
            }
            n += self.conn.execute(
                "UPDATE queries SET status = 'FAILED', error_message = ?2, ended_ms = ?3 \
                 WHERE id = ?1 AND status IN ('QUEUED', 'RUNNING')",
                params![id, message, now_ms],
            )?;
        }
        Ok(n)
    }

    /// Deletes queries that ended before `before_ms`, with their rows.
    pub fn purge_queries(&self, before_ms: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "DELETE FROM queries WHERE ended_ms IS NOT NULL AND ended_ms < ?1",
            [before_ms],
        )?)
    }
}
