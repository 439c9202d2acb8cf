//! Imports: every rule of StartImport (new and retry), StopImport, GetImport, ListImports and
//! ListImportFailures.

use crate::eds::EventDataStore;
use crate::selectors::collects_trail_events;
use crate::{Engine, EngineError, Page, Scope};
use chrono::{DateTime, Utc};
use event_store::{
    EventDataStoreStatus, FailureRecord, ImportFilter, ImportRecord, ImportStatus, NewImport,
};
use std::sync::Arc;
use trail_discovery::Location;

/// A new import (`StartImport` with a destination and a source).
#[derive(Debug, Clone, Default)]
pub struct StartImport {
    pub scope: Scope,
    /// The destination store's ARN or ID.
    pub destination: String,
    /// `s3://BUCKET[/PREFIX]`.
    pub source_uri: String,
    pub bucket_region: String,
    pub role_arn: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Where the bucket is read from (a local directory or an S3 endpoint), so that a resume
    /// from elsewhere can be refused; `None` when the server's buckets are meant.
    pub source_root: Option<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope::new("123456789012", "us-east-1")
    }
}

/// `ListImports`: filters that all hold, newest first.
#[derive(Debug, Clone, Default)]
pub struct ListImports {
    pub scope: Scope,
    /// The destination store's ARN or ID.
    pub destination: Option<String>,
    pub status: Option<ImportStatus>,
    /// Where the previous page ended.
    pub after: Option<ImportCursor>,
    pub limit: usize,
}

/// Where a page of imports ended: the row number of its last import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportCursor(pub i64);

/// That a store is `ENABLED` or `STOPPED_INGESTION`, as imports into it and Logs import tasks
/// out of it need: pending deletion is `InactiveEventDataStore`, a passing state
/// `InvalidEventDataStoreStatus`.
pub(crate) fn require_settled(eds: &event_store::EventDataStore) -> Result<(), EngineError> {
    match eds.status {
        EventDataStoreStatus::Enabled | EventDataStoreStatus::StoppedIngestion => Ok(()),
        EventDataStoreStatus::PendingDeletion => {
            Err(EngineError::InactiveEventDataStore(eds.arn.clone()))
        }
        status => Err(EngineError::InvalidEventDataStoreStatus {
            arn: eds.arn.clone(),
            status,
            needed: None,
        }),
    }
}

impl Engine {
    /// An import of this scope, or `ImportNotFound`.
    pub fn get_import(&self, scope: &Scope, id: &str) -> Result<ImportRecord, EngineError> {
        match self.store().import(id)? {
            Some(i) if i.account == scope.account && i.region == scope.region => Ok(i),
            _ => Err(EngineError::ImportNotFound(id.to_string())),
        }
    }

    /// Whether a store may receive an import: it is `ENABLED` or `STOPPED_INGESTION` (not
    /// pending deletion, not in a passing state) and collects CloudTrail events.
    fn admit_destination(&self, eds: event_store::EventDataStore) -> Result<i64, EngineError> {
        require_settled(&eds)?;
        let eds = EventDataStore::from(eds);
        if !collects_trail_events(&eds.selectors) {
            return Err(EngineError::InvalidEventDataStoreCategory(eds.arn));
        }
        Ok(eds.num)
    }

    /// `AccountHasOngoingImport` while an import of the scope is still going.
    fn refuse_if_scope_busy(&self, scope: &Scope) -> Result<(), EngineError> {
        let filter = ImportFilter {
            account: Some(scope.account.clone()),
            region: Some(scope.region.clone()),
            ..Default::default()
        };
        let busy = self
            .store()
            .imports(&filter, None, usize::MAX)?
            .into_iter()
            .find(|i| i.status.is_ongoing());
        match busy {
            Some(i) => Err(EngineError::AccountHasOngoingImport(i.id)),
            None => Ok(()),
        }
    }

    /// That the bucket of `source_uri` can be read.
    fn check_source(&self, source_uri: &str, bucket_region: &str) -> Result<(), EngineError> {
        let location = Location::parse(source_uri)
            .map_err(|e| EngineError::InvalidImportSource(e.to_string()))?;
        self.config
            .resolver
            .resolve(&location.bucket, bucket_region)?;
        Ok(())
    }

    /// Records a new import in `INITIALIZING` after every check a new import passes: the time
    /// range, the source, the destination, and one ongoing import per account and Region. A
    /// background engine starts its run.
    pub fn start_import(self: &Arc<Self>, r: StartImport) -> Result<ImportRecord, EngineError> {
        if let (Some(s), Some(e)) = (r.start, r.end) {
            if s > e {
                return Err(EngineError::InvalidParameter(
                    "StartEventTime must not be later than EndEventTime.".into(),
                ));
            }
        }
        let eds = self.find_eds(&r.scope, &r.destination)?;
        let arn = eds.arn.clone();
        let eds_num = self.admit_destination(eds)?;
        self.check_source(&r.source_uri, &r.bucket_region)?;
        self.refuse_if_scope_busy(&r.scope)?;
        let record = self.store().create_import(&NewImport {
            id: uuid::Uuid::new_v4().to_string(),
            account: r.scope.account.clone(),
            region: r.scope.region.clone(),
            destination: arn,
            eds_num: Some(eds_num),
            source_uri: r.source_uri,
            bucket_region: r.bucket_region,
            role_arn: r.role_arn,
            start_ms: r.start.map(|t| t.timestamp_millis()),
            end_ms: r.end.map(|t| t.timestamp_millis()),
            source_root: r.source_root,
            now_ms: self.now_ms(),
        })?;
        if self.config.background {
            self.spawn_run(&record.id);
        }
        Ok(record)
    }

    /// Sends a `STOPPED` or `FAILED` import round again after the same checks a new import
    /// passes (its destination, its source, one ongoing import per account and Region): failed
    /// entries go to `RETRY` and their files are read again, files not yet read are read, and
    /// the import is `INITIALIZING` until its run starts.
    pub fn retry_import(
        self: &Arc<Self>,
        scope: &Scope,
        id: &str,
    ) -> Result<ImportRecord, EngineError> {
        let import = self.get_import(scope, id)?;
        if !matches!(import.status, ImportStatus::Stopped | ImportStatus::Failed) {
            return Err(EngineError::OperationNotPermitted(format!(
                "Import {id} has neither stopped nor failed; only a stopped or failed import can be retried."
            )));
        }
        let eds = self.find_eds(scope, &import.destination)?;
        self.admit_destination(eds)?;
        self.check_source(&import.source_uri, &import.bucket_region)?;
        self.refuse_if_scope_busy(scope)?;
        let now = self.now_ms();
        {
            let store = self.store();
            store.prepare_retry(id, now)?;
            store.transition_import(
                id,
                &[ImportStatus::Stopped, ImportStatus::Failed],
                ImportStatus::Initializing,
                None,
                now,
            )?;
        }
        if self.config.background {
            self.spawn_run(id);
        }
        self.get_import(scope, id)
    }

    /// Stops an ongoing import: it is `STOPPED` at once and its run ends; what was committed
    /// before this answer stays, and nothing is committed after it. An import that already
    /// ended is returned unchanged.
    pub fn stop_import(&self, scope: &Scope, id: &str) -> Result<ImportRecord, EngineError> {
        let import = self.get_import(scope, id)?;
        if import.status.is_ongoing() {
            self.store().transition_import(
                id,
                &[ImportStatus::Initializing, ImportStatus::InProgress],
                ImportStatus::Stopped,
                None,
                self.now_ms(),
            )?;
            self.runs.stop(id);
        }
        self.get_import(scope, id)
    }

    /// Imports of a scope, newest first.
    pub fn list_imports(
        &self,
        r: &ListImports,
    ) -> Result<Page<ImportRecord, ImportCursor>, EngineError> {
        let destination = match &r.destination {
            None => None,
            Some(d) if d.starts_with("arn:") => {
                crate::scope::CloudTrailArn::parse(d)
                    .filter(|a| a.resource_type == "eventdatastore")
                    .ok_or_else(|| EngineError::EventDataStoreArnInvalid(d.clone()))?;
                Some(d.clone())
            }
            Some(d) if crate::scope::is_eds_id(d) => Some(r.scope.eds_arn(d)),
            Some(d) => return Err(EngineError::EventDataStoreArnInvalid(d.clone())),
        };
        let filter = ImportFilter {
            destination,
            status: r.status,
            account: Some(r.scope.account.clone()),
            region: Some(r.scope.region.clone()),
        };
        let mut items =
            self.store()
                .imports(&filter, r.after.map(|c| c.0), r.limit.saturating_add(1))?;
        let more = items.len() > r.limit;
        items.truncate(r.limit);
        let next = more
            .then(|| items.last().map(|i| ImportCursor(i.num)))
            .flatten();
        Ok(Page { items, next })
    }

    /// The failure entries of an import, in the order they were recorded. An import that does
    /// not exist (or is another scope's) has none.
    pub fn list_import_failures(
        &self,
        scope: &Scope,
        import_id: &str,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Page<FailureRecord, i64>, EngineError> {
        if self.get_import(scope, import_id).is_err() {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        let mut items =
            self.store()
                .failures(import_id, after.unwrap_or(0), limit.saturating_add(1))?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next = more.then(|| items.last().map(|f| f.num)).flatten();
        Ok(Page { items, next })
    }
}
