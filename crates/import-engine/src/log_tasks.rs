//! CloudWatch Logs import tasks: every rule of CreateImportTask, DescribeImportTasks,
//! DescribeImportTaskBatches and CancelImportTask, and the run that copies an event data
//! store's events into its log group `aws/cloudtrail/<edsId>`, one hour of `eventTime` per
//! batch, each batch one transaction.

use crate::clock::wall_ms;
use crate::engine::RetentionPolicy;
use crate::scope::{CloudTrailArn, PARTITIONS};
use crate::{Engine, EngineError, Page, Scope};
use event_store::{
    LogBatch, LogGroup, LogTask, LogTaskBusy, LogTaskFilter, LogTaskStatus, NewLogTask,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// No event before 2023-01-01T00:00:00Z is imported.
pub const FIRST_IMPORTABLE_MS: i64 = 1_672_531_200_000;
/// At most this many tasks are in progress per account and Region.
pub const MAX_TASKS_IN_PROGRESS: usize = 3;
/// The class of the groups tasks create.
pub const IMPORTED_LOG_GROUP_CLASS: &str = "INFREQUENT_ACCESS";

/// A new task (`CreateImportTask`).
#[derive(Debug, Clone)]
pub struct CreateLogTask {
    pub scope: Scope,
    /// `arn:PARTITION:cloudtrail:REGION:ACCOUNT:eventdatastore/ID`.
    pub source_arn: String,
    pub role_arn: String,
    /// Inclusive bounds on `eventTime`, epoch ms; open when absent.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

/// `DescribeImportTasks`: filters that all hold, newest first.
#[derive(Debug, Clone)]
pub struct DescribeLogTasks {
    pub scope: Scope,
    pub id: Option<String>,
    pub status: Option<LogTaskStatus>,
    pub source_arn: Option<String>,
    /// Where the previous page ended (a task number).
    pub after: Option<i64>,
    pub limit: usize,
}

/// Called after each batch a run writes, with the task as it then is, the batches written and
/// the batches of the task.
pub type BatchFn = Arc<dyn Fn(&LogTask, usize, usize) + Send + Sync>;

/// Called after each batch a task writes, with the task as it then is.
pub type BatchHook = Arc<dyn Fn(&LogTask) + Send + Sync>;

/// How the caller of [`Engine::run_log_task`] follows and stops a run.
#[derive(Clone, Default)]
pub struct TaskControl {
    /// Set to cancel the task at the next batch boundary (Ctrl-C on the command line).
    pub cancel: Arc<AtomicBool>,
    pub on_batch: Option<BatchFn>,
}

/// The managed log group of a store.
pub fn imported_log_group_name(eds_id: &str) -> String {
    format!("aws/cloudtrail/{eds_id}")
}

/// Whether `arn` is an IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let fields: Vec<&str> = parts.by_ref().collect();
    let [kw, partition, service, region, account, resource] = fields[..] else {
        return false;
    };
    let name_ok = resource.strip_prefix("role/").is_some_and(|path| {
        !path.is_empty()
            && !path.ends_with('/')
            && path.len() <= 512
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
    });
    kw == "arn"
        && PARTITIONS.contains(&partition)
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && name_ok
}

impl Engine {
    /// The source store of a task: a well-formed event data store ARN (else
    /// `InvalidParameter`) of this account and Region (else not found).
    fn task_source(
        &self,
        scope: &Scope,
        source_arn: &str,
    ) -> Result<event_store::EventDataStore, EngineError> {
        let arn = CloudTrailArn::parse(source_arn)
            .filter(|a| a.resource_type == "eventdatastore" && crate::scope::is_eds_id(a.id))
            .ok_or_else(|| {
                EngineError::InvalidParameter(format!(
                    "importSourceArn {source_arn} is not the ARN of a CloudTrail Lake event data store."
                ))
            })?;
        let not_found = || EngineError::EventDataStoreNotFound(source_arn.to_string());
        if arn.account != scope.account
            || arn.region != scope.region
            || arn.partition != scope.partition()
        {
            return Err(not_found());
        }
        match self.store().event_data_store(source_arn)? {
            Some(eds) if eds.arn == source_arn => Ok(eds),
            _ => Err(not_found()),
        }
    }

    /// The earliest `eventTime` a task of this store imports now: 2023 and the retention
    /// period (by the engine's policy) both bound it.
    fn importable_from(&self, eds: &event_store::EventDataStore) -> i64 {
        let days = match self.config.retention {
            RetentionPolicy::KeepAll => None,
            RetentionPolicy::Days(d) => Some(d),
            RetentionPolicy::FromDestination => Some(eds.retention_days),
        };
        let retained = days.map_or(i64::MIN, |d| self.now_ms() - d * 86_400_000);
        FIRST_IMPORTABLE_MS.max(retained)
    }

    /// Creates a task after every check: the filter, the role, the source (an `ENABLED` or
    /// `STOPPED_INGESTION` store of this scope), no task of the store in progress (checked
    /// first), fewer than three in progress in the scope. The filter is clamped to what can be
    /// imported (2023 on, within retention), never refused for it; the task covers the events
    /// stored now, one batch per hour holding some. The store's log group is created if it has
    /// none. A background engine starts the run.
    pub fn create_log_task(self: &Arc<Self>, r: CreateLogTask) -> Result<LogTask, EngineError> {
        if let (Some(s), Some(e)) = (r.start_ms, r.end_ms) {
            if s > e {
                return Err(EngineError::InvalidParameter(
                    "startEventTime must be less than or equal to endEventTime.".into(),
                ));
            }
        }
        if !is_role_arn(&r.role_arn) {
            return Err(EngineError::InvalidParameter(format!(
                "importRoleArn {} is not the ARN of an IAM role.",
                r.role_arn
            )));
        }
        let eds = self.task_source(&r.scope, &r.source_arn)?;
        crate::imports::require_settled(&eds)?;
        let from_ms = r
            .start_ms
            .unwrap_or(i64::MIN)
            .max(self.importable_from(&eds));
        let to_ms = r.end_ms.unwrap_or(i64::MAX);
        let name = imported_log_group_name(&eds.id);
        let group = LogGroup {
            num: 0,
            account: r.scope.account.clone(),
            region: r.scope.region.clone(),
            arn: format!(
                "arn:{}:logs:{}:{}:log-group:{name}",
                r.scope.partition(),
                r.scope.region,
                r.scope.account
            ),
            name,
            class: IMPORTED_LOG_GROUP_CLASS.to_string(),
            created_ms: 0,
            stored_bytes: 0,
        };
        let now = self.now_ms();
        let created = {
            let store = self.store();
            let max_event = store.last_event()?;
            let hours = if from_ms <= to_ms {
                store.event_hours(eds.num, max_event, from_ms, to_ms)?
            } else {
                Vec::new()
            };
            let batch_ids: Vec<String> = hours
                .iter()
                .map(|_| uuid::Uuid::new_v4().to_string())
                .collect();
            let new = NewLogTask {
                id: uuid::Uuid::new_v4().to_string(),
                account: r.scope.account.clone(),
                region: r.scope.region.clone(),
                source_arn: eds.arn.clone(),
                eds_num: eds.num,
                destination_arn: group.arn.clone(),
                role_arn: r.role_arn,
                start_ms: r.start_ms,
                end_ms: r.end_ms,
                from_ms,
                to_ms,
                max_event,
                now_ms: now,
            };
            store.create_log_task(&new, &group, &hours, &batch_ids, MAX_TASKS_IN_PROGRESS)?
        };
        let task = match created {
            Ok(task) => task,
            Err(LogTaskBusy::Store(task)) => {
                return Err(EngineError::ImportTaskConflict { eds: eds.arn, task })
            }
            Err(LogTaskBusy::Scope(n)) => return Err(EngineError::ImportTaskLimitExceeded(n)),
        };
        if self.config.background {
            self.spawn_log_task(&task.id);
        }
        Ok(task)
    }

    /// A task of this scope, or `ImportTaskNotFound`.
    pub fn log_task(&self, scope: &Scope, id: &str) -> Result<LogTask, EngineError> {
        match self.store().log_task(id)? {
            Some(t) if t.account == scope.account && t.region == scope.region => Ok(t),
            _ => Err(EngineError::ImportTaskNotFound(id.to_string())),
        }
    }

    /// A task of any scope (the command line, which names a task by ID alone).
    pub fn find_log_task(&self, id: &str) -> Result<Option<LogTask>, EngineError> {
        Ok(self.store().log_task(id)?)
    }

    /// Tasks of a scope, newest first; an unknown ID or source gives an empty page.
    pub fn describe_log_tasks(
        &self,
        r: &DescribeLogTasks,
    ) -> Result<Page<LogTask, i64>, EngineError> {
        let filter = LogTaskFilter {
            account: Some(r.scope.account.clone()),
            region: Some(r.scope.region.clone()),
            id: r.id.clone(),
            status: r.status,
            source_arn: r.source_arn.clone(),
            eds_num: None,
        };
        let mut items = self
            .store()
            .log_tasks(&filter, r.after, r.limit.saturating_add(1))?;
        let more = items.len() > r.limit;
        items.truncate(r.limit);
        let next = more.then(|| items.last().map(|t| t.num)).flatten();
        Ok(Page { items, next })
    }

    /// The batches of a task with one of `statuses` (all when empty), in hour order.
    pub fn log_task_batches(
        &self,
        scope: &Scope,
        id: &str,
        statuses: &[LogTaskStatus],
        after: Option<i64>,
        limit: usize,
    ) -> Result<(LogTask, Page<LogBatch, i64>), EngineError> {
        let task = self.log_task(scope, id)?;
        let mut items =
            self.store()
                .log_task_batches(id, statuses, after, limit.saturating_add(1))?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next = more.then(|| items.last().map(|b| b.batch_no)).flatten();
        Ok((task, Page { items, next }))
    }

    /// Cancels a task in progress: it is `CANCELLED` at once with its unwritten batches, and
    /// its run stops at the next batch boundary; what was written stays, and its statistics
    /// never change again. A task that has ended is `ImportTaskNotInProgress`.
    pub fn cancel_log_task(&self, scope: &Scope, id: &str) -> Result<LogTask, EngineError> {
        self.log_task(scope, id)?;
        if !self.store().cancel_log_task(id, self.now_ms())? {
            return Err(EngineError::ImportTaskNotInProgress(id.to_string()));
        }
        // A run in this process stops before its next batch (it would find the task
        // cancelled anyway).
        self.runs.stop(id);
        self.log_task(scope, id)
    }

    /// Starts a run of a task on a thread of its own.
    pub fn spawn_log_task(self: &Arc<Self>, id: &str) -> std::thread::JoinHandle<()> {
        let engine = self.clone();
        let id = id.to_string();
        std::thread::Builder::new()
            .name(format!("logs-{}", &id[..8.min(id.len())]))
            .spawn(move || {
                if let Err(e) = engine.run_log_task(&id, &TaskControl::default()) {
                    eprintln!("import task {id}: {e}");
                }
            })
            .expect("spawn an import task thread")
    }

    /// Starts a run of every task in progress that no live run holds (a server starting after
    /// a stop); returns their IDs.
    pub fn resume_log_tasks(self: &Arc<Self>) -> Result<Vec<String>, EngineError> {
        let filter = LogTaskFilter {
            status: Some(LogTaskStatus::InProgress),
            ..Default::default()
        };
        let tasks = self.store().log_tasks(&filter, None, usize::MAX)?;
        let now = wall_ms();
        let mut resumed = Vec::new();
        for task in tasks.iter().rev() {
            let owned = self.store().log_task_owner(&task.id)?;
            if owned.is_some_and(|(owner, until)| until >= now && !crate::owner::is_gone(&owner)) {
                continue;
            }
            self.spawn_log_task(&task.id);
            resumed.push(task.id.clone());
        }
        Ok(resumed)
    }

    /// Runs a task to its end and returns it: claims it (a task another live run holds is
    /// returned as it is), writes its unwritten batches oldest first, each in one transaction
    /// that lands only while the task is in progress and this run holds it, and ends it
    /// `COMPLETED`, or `FAILED` if a batch could not be written. A cancel (CancelImportTask,
    /// or `control.cancel`) stops it at the next batch boundary.
    pub fn run_log_task(&self, id: &str, control: &TaskControl) -> Result<LogTask, EngineError> {
        let current = || {
            self.store()
                .log_task(id)?
                .ok_or_else(|| EngineError::ImportTaskNotFound(id.to_string()))
        };
        let task = current()?;
        if task.status != LogTaskStatus::InProgress {
            return Ok(task);
        }
        let owner = crate::owner::new_owner();
        let lease = self.config.lease.as_millis() as i64;
        let claimed = {
            let store = self.store();
            let gone = store
                .log_task_owner(id)?
                .map(|(o, _)| o)
                .filter(|o| crate::owner::is_gone(o));
            let now = wall_ms();
            store.claim_log_task(id, &owner, gone.as_deref(), now, now + lease)?
        };
        if !claimed {
            return current();
        }
        // Windows of time are read through `events_by_time`, which a bulk import that never
        // ended may have left dropped.
        self.store().restore_event_indexes()?;
        self.runs
            .lock()
            .insert(id.to_string(), control.cancel.clone());
        let lost = AtomicBool::new(false);
        let renew = |until| matches!(self.store().renew_log_task(id, &owner, until), Ok(true));
        let written = crate::lease::with_heartbeat(self.config.lease, &lost, renew, || {
            self.write_batches(&task, &owner, control, &lost)
        })
        .and_then(|r| r);
        let ended = (|| {
            let store = self.store();
            let now = self.now_ms();
            match written {
                Ok(_) if lost.load(Ordering::SeqCst) => {}
                Ok(_) if control.cancel.load(Ordering::SeqCst) => {
                    store.cancel_log_task(id, now)?;
                }
                Ok(failure) => {
                    store.finish_log_task(id, &owner, failure.as_deref(), now)?;
                }
                Err(e) => {
                    let message = format!("The import task could not go on: {e}");
                    store.finish_log_task(id, &owner, Some(&message), now)?;
                }
            }
            store.release_log_task(id, &owner)
        })();
        self.runs.lock().remove(id);
        ended?;
        current()
    }

    /// Writes a task's unwritten batches; returns the first batch failure, if any.
    fn write_batches(
        &self,
        task: &LogTask,
        owner: &str,
        control: &TaskControl,
        lost: &AtomicBool,
    ) -> Result<Option<String>, EngineError> {
        let name = task
            .destination_arn
            .split_once(":log-group:")
            .map_or("", |(_, n)| n);
        let group = self
            .store()
            .log_group(&task.account, &task.region, name)?
            .ok_or_else(|| EngineError::LogGroupNotFound(name.to_string()))?;
        let total = self
            .store()
            .log_task_batches(&task.id, &[], None, usize::MAX)?;
        let todo: Vec<&LogBatch> = total
            .iter()
            .filter(|b| b.status == LogTaskStatus::InProgress)
            .collect();
        let mut done = total.len() - todo.len();
        let mut failure = None;
        for batch in todo {
            if control.cancel.load(Ordering::SeqCst) || lost.load(Ordering::SeqCst) {
                break;
            }
            if let Some(pace) = self.config.pace_per_batch {
                std::thread::sleep(pace);
            }
            let written = self.store().write_log_batch(
                task,
                owner,
                batch.batch_no,
                group.num,
                &task.account,
                &task.region,
                self.now_ms(),
            );
            match written {
                Ok(Some(_)) => {}
                // Cancelled, or no longer this run's.
                Ok(None) => break,
                Err(e) => {
                    let message = format!("The batch could not be written: {e}");
                    self.store()
                        .fail_log_batch(&task.id, batch.batch_no, &message)?;
                    failure.get_or_insert_with(|| {
                        format!("Batch {} could not be written: {e}", batch.batch_id)
                    });
                }
            }
            done += 1;
            if control.on_batch.is_some() || self.config.after_log_batch.is_some() {
                let Some(now) = self.store().log_task(&task.id)? else {
                    break;
                };
                if let Some(cb) = &control.on_batch {
                    cb(&now, done, total.len());
                }
                if let Some(hook) = &self.config.after_log_batch {
                    hook(&now);
                }
            }
        }
        Ok(failure)
    }

    /// Whether a store has a task in progress (it cannot be deleted then).
    pub(crate) fn has_log_task_in_progress(&self, eds_num: i64) -> Result<bool, EngineError> {
        let filter = LogTaskFilter {
            eds_num: Some(eds_num),
            status: Some(LogTaskStatus::InProgress),
            ..Default::default()
        };
        Ok(!self.store().log_tasks(&filter, None, 1)?.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::is_role_arn;

    #[test]
    fn role_arns() {
        for ok in [
            "arn:aws:iam::123456789012:role/CloudTrailImport",
            "arn:aws:iam::123456789012:role/service-role/a+b=c,d.e@f_g-h",
            "arn:aws-cn:iam::123456789012:role/x",
        ] {
            assert!(is_role_arn(ok), "{ok}");
        }
        for bad in [
            "",
            "role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
            "arn:aws:iam::12345678901:role/x",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a b",
            "arn:nope:iam::123456789012:role/x",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }
}
