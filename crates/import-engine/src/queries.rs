//! Lake queries: StartQuery checks a statement at once (lake-sql parses, resolves and
//! type-checks it against the scope's stores) and records it QUEUED; a run on a thread of its
//! own takes it RUNNING, stores its rendered rows as they come and ends it FINISHED, FAILED,
//! CANCELLED or TIMED_OUT. Results are kept seven days after a query ends.

use crate::engine::Page;
use crate::{Engine, EngineError, Scope};
use event_store::{NewQuery, QueryFilter, QueryRecord, QueryStats, QueryStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this many queries QUEUED or RUNNING per account and Region.
pub const MAX_ACTIVE_QUERIES: usize = 10;
/// How long a query and its results are kept after it ends.
pub const QUERY_RETENTION_MS: i64 = 7 * 86_400_000;
/// The most rows GetQueryResults returns at once (and its default).
pub const MAX_QUERY_RESULTS: usize = 1000;
/// The text of one delivered CSV part, before gzip.
const DELIVERY_PART_BYTES: usize = 64 << 20;
/// Rows stored per transaction while a query runs.
const ROWS_PER_COMMIT: usize = 1000;

/// What StartQuery asks.
#[derive(Debug, Clone)]
pub struct StartQuery {
    pub scope: Scope,
    pub statement: String,
    pub delivery_uri: Option<String>,
    pub alias: Option<String>,
    /// Values for the statement's `?` placeholders, in order.
    pub parameters: Vec<String>,
    /// Whether `FROM` may also name a store by its name (the command line; Lake itself takes
    /// IDs only).
    pub names: bool,
}

/// What ListQueries asks.
#[derive(Debug, Clone)]
pub struct ListQueries {
    pub scope: Scope,
    /// The store, by ARN or ID.
    pub eds: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub status: Option<QueryStatus>,
    pub before: Option<(i64, String)>,
    pub limit: usize,
}

/// One page of a query's results.
#[derive(Debug, Clone)]
pub struct QueryResults {
    pub query: QueryRecord,
    /// Each row's cells, in the order of `query.columns`.
    pub rows: Vec<Vec<String>>,
    /// The row number the next page starts after.
    pub next: Option<i64>,
}

struct Stores<'e> {
    engine: &'e Engine,
    scope: &'e Scope,
    names: bool,
}

impl lake_sql::Catalog for Stores<'_> {
    fn store(&self, id: &str) -> Option<i64> {
        if let Ok(Some(eds)) = self.engine.store().event_data_store(id) {
            if eds.id == id && eds.arn.starts_with(&self.scope.eds_arn_prefix()) {
                return Some(eds.num);
            }
        }
        if self.names {
            if let Ok(Some(eds)) = self.engine.event_data_store_named(self.scope, id) {
                return Some(eds.num);
            }
        }
        None
    }
}

impl Engine {
    fn plan_query(
        &self,
        scope: &Scope,
        statement: &str,
        names: bool,
    ) -> Result<lake_sql::Plan, EngineError> {
        let stores = Stores {
            engine: self,
            scope,
            names,
        };
        lake_sql::plan(statement, &stores).map_err(|e| match e {
            lake_sql::PlanError::Invalid(m) => EngineError::InvalidQueryStatement(m),
            lake_sql::PlanError::StoreNotFound(id) => EngineError::EventDataStoreNotFound(id),
        })
    }

    /// The plan SQLite chooses for a statement (which indexes it walks), one line per step.
    pub fn explain_query(
        &self,
        scope: &Scope,
        statement: &str,
    ) -> Result<Vec<String>, EngineError> {
        let plan = self.plan_query(scope, statement, true)?;
        self.store().prepare_for_queries()?;
        lake_sql::exec::explain(&self.db_path, &plan).map_err(|e| EngineError::Run(e.to_string()))
    }

    /// StartQuery: the statement is checked now; the query runs in the background (a server)
    /// or when the caller calls [`Engine::run_query`] (the command line).
    pub fn start_query(self: &Arc<Self>, r: StartQuery) -> Result<QueryRecord, EngineError> {
        if r.alias.is_some() {
            return Err(EngineError::UnsupportedOperation(
                "QueryAlias names queries of CloudTrail Lake dashboards, which trailport does not have."
                    .into(),
            ));
        }
        let statement = bind_parameters(&r.statement, &r.parameters)?;
        if let Some(uri) = &r.delivery_uri {
            let (bucket, _) = delivery_location(uri)?;
            self.config
                .resolver
                .resolve(bucket, &r.scope.region)
                .map_err(|_| EngineError::S3BucketDoesNotExist(bucket.to_string()))?;
        }
        let plan = self.plan_query(&r.scope, &statement, r.names)?;
        let now = self.now_ms();
        let store = self.store();
        store.prepare_for_queries()?;
        store.purge_queries(now - QUERY_RETENTION_MS)?;
        let new = NewQuery {
            id: uuid::Uuid::new_v4().to_string(),
            account: r.scope.account.clone(),
            region: r.scope.region.clone(),
            statement: statement.clone(),
            names: r.names,
            delivery_uri: r.delivery_uri.clone(),
            columns: plan.columns.iter().map(|(n, _)| n.clone()).collect(),
            stores: plan.stores.clone(),
            owner: crate::owner::new_owner(),
            now_ms: now,
        };
        if !store.create_query(&new, MAX_ACTIVE_QUERIES)? {
            return Err(EngineError::MaxConcurrentQueries(MAX_ACTIVE_QUERIES));
        }
        let q = store.query(&new.id)?.expect("just recorded");
        drop(store);
        if self.config.background {
            let engine = self.clone();
            let id = q.id.clone();
            let flag = self.register_query(&id);
            std::thread::Builder::new()
                .name(format!("query-{}", &id[..8]))
                .spawn(move || {
                    let _ = engine.execute_query(&id, &flag);
                    engine.runs.lock().remove(&id);
                })
                .expect("spawn a query thread");
        }
        Ok(q)
    }

    fn register_query(&self, id: &str) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.runs.lock().insert(id.to_string(), flag.clone());
        flag
    }

    /// Runs a QUEUED query to its end on this thread ([`Engine::query_scanned`] tells another
    /// thread how far it is). Returns the query as it ended.
    pub fn run_query(&self, id: &str) -> Result<QueryRecord, EngineError> {
        let flag = self.register_query(id);
        let result = self.execute_query(id, &flag);
        self.runs.lock().remove(id);
        result
    }

    /// How many events a query this process is running has scanned so far.
    pub fn query_scanned(&self, id: &str) -> Option<u64> {
        self.scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .map(|n| n.load(Ordering::Relaxed))
    }

    /// Stops a query run by this process (Ctrl-C at the command line).
    pub fn interrupt_query(&self, id: &str) {
        self.runs.stop(id);
    }

    fn execute_query(
        &self,
        id: &str,
        cancel: &Arc<AtomicBool>,
    ) -> Result<QueryRecord, EngineError> {
        let q = self
            .store()
            .query(id)?
            .ok_or_else(|| EngineError::QueryIdNotFound(id.to_string()))?;
        if !self.store().start_query_run(id)? {
            return Ok(q);
        }
        let scope = Scope::new(q.account.clone(), q.region.clone());
        let started = Instant::now();
        let plan = match self.plan_query(&scope, &q.statement, q.names) {
            Ok(p) => p,
            Err(e) => {
                // A store deleted between StartQuery and the run.
                self.store().end_query(
                    id,
                    QueryStatus::Failed,
                    Some(&e.to_string()),
                    &QueryStats::default(),
                    self.now_ms(),
                )?;
                return self.finished(id);
            }
        };
        let timeout = self.config.query_timeout;
        let timed_out = Arc::new(AtomicBool::new(false));
        let scanned = Arc::new(std::sync::atomic::AtomicU64::new(0));
        self.scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), scanned.clone());
        let interrupt = {
            let cancel = cancel.clone();
            let timed_out = timed_out.clone();
            move |events: u64| {
                scanned.store(events, Ordering::Relaxed);
                if started.elapsed() > timeout {
                    timed_out.store(true, Ordering::SeqCst);
                }
                cancel.load(Ordering::SeqCst) || timed_out.load(Ordering::SeqCst)
            }
        };
        let mut pending: Vec<String> = Vec::new();
        let mut written: i64 = 0;
        let mut last_report = Instant::now();
        let flush = |pending: &mut Vec<String>, written: &mut i64| -> Result<(), String> {
            if pending.is_empty() {
                return Ok(());
            }
            let ok = self
                .store()
                .append_query_rows(id, *written + 1, pending)
                .map_err(|e| e.to_string())?;
            if !ok {
                // Cancelled: stop the scan.
                cancel.store(true, Ordering::SeqCst);
            }
            *written += pending.len() as i64;
            pending.clear();
            Ok(())
        };
        let result = lake_sql::run(&self.db_path, &plan, self.now_ms(), interrupt, |cells| {
            let row: Vec<String> = cells.into_iter().map(Option::unwrap_or_default).collect();
            pending.push(serde_json::to_string(&row).expect("strings serialise"));
            if pending.len() >= ROWS_PER_COMMIT
                || last_report.elapsed() > Duration::from_millis(250)
            {
                flush(&mut pending, &mut written)?;
                last_report = Instant::now();
            }
            Ok(())
        });
        let flushed = flush(&mut pending, &mut written);
        self.scans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        let exec_ms = started.elapsed().as_millis() as i64;
        let (status, error, scan) = match (result, flushed) {
            (Ok(scan), Ok(())) => (QueryStatus::Finished, None, scan),
            (Err(lake_sql::RunError::Interrupted), _) if timed_out.load(Ordering::SeqCst) => (
                QueryStatus::TimedOut,
                Some(format!(
                    "Query exceeded the time limit of {} seconds; the rows found so far are kept.",
                    timeout.as_secs()
                )),
                Default::default(),
            ),
            (Err(lake_sql::RunError::Interrupted), _) => {
                (QueryStatus::Cancelled, None, Default::default())
            }
            (Err(lake_sql::RunError::Failed(m)), _) | (Ok(_), Err(m)) => {
                (QueryStatus::Failed, Some(m), Default::default())
            }
        };
        let matched = if scan.records_read > 0 {
            scan.records_read.min(scan.events_scanned)
        } else {
            scan.events_scanned
        };
        let stats = QueryStats {
            events_scanned: scan.events_scanned as i64,
            events_matched: matched as i64,
            bytes_scanned: scan.bytes_scanned as i64,
            results_count: written,
            exec_ms,
        };
        let ended = self
            .store()
            .end_query(id, status, error.as_deref(), &stats, self.now_ms())?;
        if ended && matches!(status, QueryStatus::Finished | QueryStatus::TimedOut) {
            if let Some(uri) = &q.delivery_uri {
                let delivered = self.deliver(&q, uri);
                self.store().set_query_delivery(
                    id,
                    if delivered.is_ok() {
                        "SUCCESS"
                    } else {
                        "FAILED"
                    },
                )?;
            }
        }
        self.finished(id)
    }

    /// Writes a query's rows as gzip CSV (a header, then the rows; a new part every 64 MB of
    /// text) under `URI/AWSLogs/ACCOUNT/CloudTrail-Lake/Query/YYYY/MM/DD/QUERY_ID/`, in the
    /// bucket the engine's resolver serves.
    fn deliver(&self, q: &QueryRecord, uri: &str) -> Result<(), EngineError> {
        use std::io::Write;
        let (bucket, prefix) = delivery_location(uri)?;
        let source = self.config.resolver.resolve(bucket, &q.region)?;
        let day = chrono::DateTime::from_timestamp_millis(q.created_ms)
            .unwrap_or_default()
            .format("%Y/%m/%d");
        let folder = format!(
            "{}AWSLogs/{}/CloudTrail-Lake/Query/{day}/{}/",
            if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            q.account,
            q.id
        );
        let header = csv_record(&q.columns);
        let mut part = 1;
        let mut text = header.clone();
        let mut after = 0;
        let put = |part: usize, text: &str| -> Result<(), EngineError> {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(text.as_bytes())
                .and_then(|_| gz.finish())
                .map_err(|e| EngineError::Run(e.to_string()))
                .and_then(|bytes| {
                    source
                        .put_object(&format!("{folder}result_{part}.csv.gz"), &bytes)
                        .map_err(|e| EngineError::Run(e.message))
                })
        };
        loop {
            let rows = self.store().query_rows(&q.id, after, MAX_QUERY_RESULTS)?;
            if rows.is_empty() {
                break;
            }
            after += rows.len() as i64;
            for r in rows {
                let cells: Vec<String> = serde_json::from_str(&r).unwrap_or_default();
                text.push_str(&csv_record(&cells));
                if text.len() >= DELIVERY_PART_BYTES {
                    put(part, &text)?;
                    part += 1;
                    text = header.clone();
                }
            }
        }
        if part == 1 || text.len() > header.len() {
            put(part, &text)?;
        }
        Ok(())
    }

    fn finished(&self, id: &str) -> Result<QueryRecord, EngineError> {
        self.store()
            .query(id)?
            .ok_or_else(|| EngineError::QueryIdNotFound(id.to_string()))
    }

    /// A query of this scope that has not expired, or `QueryIdNotFound`.
    pub fn describe_query(&self, scope: &Scope, id: &str) -> Result<QueryRecord, EngineError> {
        let now = self.now_ms();
        match self.store().query(id)? {
            Some(q)
                if q.account == scope.account
                    && q.region == scope.region
                    && q.ended_ms.is_none_or(|e| e >= now - QUERY_RETENTION_MS) =>
            {
                Ok(q)
            }
            _ => Err(EngineError::QueryIdNotFound(id.to_string())),
        }
    }

    /// A query of any scope (the command line).
    pub fn find_query(&self, id: &str) -> Result<Option<QueryRecord>, EngineError> {
        Ok(self.store().query(id)?)
    }

    /// GetQueryResults: rows after row `after` (0 for the first page), at most `limit`
    /// (1–1000). Rows are there once the query is FINISHED (or TIMED_OUT: the rows found so
    /// far); before that, and for a query that FAILED or was CANCELLED, the page is empty.
    pub fn query_results(
        &self,
        scope: &Scope,
        id: &str,
        after: i64,
        limit: usize,
    ) -> Result<QueryResults, EngineError> {
        if !(1..=MAX_QUERY_RESULTS).contains(&limit) {
            return Err(EngineError::InvalidMaxResults(format!(
                "MaxQueryResults must be between 1 and {MAX_QUERY_RESULTS}."
            )));
        }
        let query = self.describe_query(scope, id)?;
        if !matches!(query.status, QueryStatus::Finished | QueryStatus::TimedOut) {
            return Ok(QueryResults {
                query,
                rows: Vec::new(),
                next: None,
            });
        }
        let raw = self.store().query_rows(id, after, limit)?;
        let rows: Vec<Vec<String>> = raw
            .iter()
            .map(|r| serde_json::from_str(r).unwrap_or_default())
            .collect();
        let end = after + rows.len() as i64;
        // A page that came back empty ends the listing whatever the count says, so a caller
        // following tokens always stops.
        let next = (!rows.is_empty() && end < query.stats.results_count).then_some(end);
        Ok(QueryResults { query, rows, next })
    }

    /// ListQueries: the queries of one store created in the last seven days, newest first.
    pub fn list_queries(
        &self,
        r: &ListQueries,
    ) -> Result<Page<QueryRecord, (i64, String)>, EngineError> {
        if !(1..=1000).contains(&r.limit) {
            return Err(EngineError::InvalidMaxResults(
                "MaxResults must be between 1 and 1000.".into(),
            ));
        }
        if let (Some(s), Some(e)) = (r.start_ms, r.end_ms) {
            if s > e {
                return Err(EngineError::InvalidDateRange(
                    "StartTime must be earlier than EndTime.".into(),
                ));
            }
        }
        let eds = self.find_eds(&r.scope, &r.eds)?;
        let now = self.now_ms();
        let floor = now - QUERY_RETENTION_MS;
        let filter = QueryFilter {
            account: r.scope.account.clone(),
            region: r.scope.region.clone(),
            eds_num: eds.num,
            from_ms: Some(r.start_ms.map_or(floor, |s| s.max(floor))),
            to_ms: r.end_ms,
            status: r.status,
            before: r.before.clone(),
            limit: r.limit + 1,
        };
        let mut items = self.store().queries(&filter)?;
        let more = items.len() > r.limit;
        items.truncate(r.limit);
        let next = if more {
            items.last().map(|q| (q.created_ms, q.id.clone()))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// CancelQuery: a QUEUED or RUNNING query is CANCELLED at once and its run stops; any
    /// other is `InactiveQuery`.
    pub fn cancel_query(&self, scope: &Scope, id: &str) -> Result<QueryRecord, EngineError> {
        let q = self.describe_query(scope, id)?;
        if !q.status.is_active() {
            return Err(EngineError::InactiveQuery(format!(
                "The query {id} has already ended ({:?}) and cannot be cancelled.",
                q.status
            )));
        }
        let status = self.store().cancel_query(id, self.now_ms())?;
        self.runs.stop(id);
        if status != Some(QueryStatus::Cancelled) {
            return Err(EngineError::InactiveQuery(format!(
                "The query {id} ended before it could be cancelled."
            )));
        }
        self.describe_query(scope, id)
    }

    /// Queries a stopped process left QUEUED or RUNNING end FAILED (a server calls this when
    /// it starts; their rows are incomplete, so they are not resumed).
    pub fn fail_interrupted_queries(&self) -> Result<usize, EngineError> {
        Ok(self.store().fail_orphaned_queries(
            &|owner| !crate::owner::is_gone(owner),
            "The query was interrupted: the trailport process running it stopped. Start it again.",
            self.now_ms(),
        )?)
    }
}

/// Replaces each `?` outside strings, quoted names and comments with the next parameter as a
/// string literal (QueryParameters).
fn bind_parameters(statement: &str, params: &[String]) -> Result<String, EngineError> {
    if params.is_empty() {
        return Ok(statement.to_string());
    }
    let mut out = String::with_capacity(statement.len());
    let mut it = params.iter();
    let mut quote: Option<char> = None;
    let mut chars = statement.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '-' && chars.peek() == Some(&'-') => {
                out.push(c);
                for c in chars.by_ref() {
                    out.push(c);
                    if c == '\n' {
                        break;
                    }
                }
            }
            None if c == '?' => {
                let p = it.next().ok_or_else(|| {
                    EngineError::InvalidParameter(
                        "The query has more ? placeholders than QueryParameters.".into(),
                    )
                })?;
                out.push('\'');
                out.push_str(&p.replace('\'', "''"));
                out.push('\'');
            }
            None => out.push(c),
        }
    }
    if it.next().is_some() {
        return Err(EngineError::InvalidParameter(
            "QueryParameters has more values than the query has ? placeholders.".into(),
        ));
    }
    Ok(out)
}

/// `s3://BUCKET[/PREFIX]` → (bucket, prefix without its trailing `/`).
fn delivery_location(uri: &str) -> Result<(&str, &str), EngineError> {
    let rest = uri.strip_prefix("s3://").ok_or_else(|| {
        EngineError::InvalidParameter(format!("DeliveryS3Uri {uri} is not an s3:// URI."))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    Ok((bucket, prefix.trim_end_matches('/')))
}

/// One CSV record with its line end (RFC 4180 quoting): delivered results and `trailport
/// query --format csv`.
pub fn csv_record(cells: &[String]) -> String {
    let mut line = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}
