//! Errors of the engine, one variant for every refusal an operation can give, named for the
//! condition (the API crate maps each to its wire name).

use event_store::{EventDataStoreStatus, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("The specified import was not found: {0}")]
    ImportNotFound(String),
    #[error("The specified event data store was not found: {0}")]
    EventDataStoreNotFound(String),
    #[error("The specified event data store ARN is not valid or does not map to an event data store in your account: {0}")]
    EventDataStoreArnInvalid(String),
    #[error("An event data store with the name {0} already exists.")]
    EventDataStoreAlreadyExists(String),
    #[error("Your account has the maximum of {max} event data stores in {region}.")]
    EventDataStoreMaxLimitExceeded { region: String, max: usize },
    #[error("The event data store {0} has termination protection enabled; disable it with UpdateEventDataStore first.")]
    EventDataStoreTerminationProtected(String),
    #[error("The event data store {0} has an import in progress.")]
    EventDataStoreHasOngoingImport(String),
    #[error("The event data store {0} is inactive (pending deletion).")]
    InactiveEventDataStore(String),
    /// The store's status does not allow the operation; `needed` says which status would.
    #[error(
        "The event data store {arn} is in status {status:?}, which does not allow this operation."
    )]
    InvalidEventDataStoreStatus {
        arn: String,
        status: EventDataStoreStatus,
        needed: Option<EventDataStoreStatus>,
    },
    #[error("The event data store {0} does not collect CloudTrail events.")]
    InvalidEventDataStoreCategory(String),
    #[error("{0}")]
    InvalidEventSelectors(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("The account already has an ongoing import: {0}")]
    AccountHasOngoingImport(String),
    #[error("{0}")]
    OperationNotPermitted(String),
    #[error("The import source is not valid: {0}")]
    InvalidImportSource(String),
    #[error("{0}")]
    CloudTrailArnInvalid(String),
    #[error("The resource type of {0} is not supported.")]
    ResourceTypeNotSupported(String),
    #[error("The specified resource is not found: {0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    InvalidTagParameter(String),
    #[error("The number of tags on {0} would exceed the limit of 50.")]
    TagsLimitExceeded(String),
    #[error("The specified import task does not exist: {0}")]
    ImportTaskNotFound(String),
    #[error("The event data store {eds} already has an import task in progress: {task}.")]
    ImportTaskConflict { eds: String, task: String },
    #[error("There are already {0} import tasks in progress in this account and Region; wait for one to end.")]
    ImportTaskLimitExceeded(usize),
    #[error("The import task {0} is not in progress; only a task in progress can be cancelled.")]
    ImportTaskNotInProgress(String),
    #[error("The specified log group does not exist.")]
    LogGroupNotFound(String),
    #[error("The specified log stream does not exist.")]
    LogStreamNotFound(String),
    #[error(
        "The log group {0} is being written by an import task in progress; try again when it ends."
    )]
    LogGroupBusy(String),
    #[error("The log group {0} is of log-group-class INFREQUENT_ACCESS. FilterLogEvents is not supported for this log class.")]
    LogClassNotSupported(String),
    #[error("{0}")]
    InvalidQueryStatement(String),
    #[error("The query ID does not exist or does not map to a query: {0}")]
    QueryIdNotFound(String),
    #[error("You are already running the maximum number of concurrent queries ({0}). Wait a minute for some queries to finish, and then run the query again.")]
    MaxConcurrentQueries(usize),
    #[error("{0}")]
    InactiveQuery(String),
    #[error("{0}")]
    InvalidMaxResults(String),
    #[error("{0}")]
    InvalidDateRange(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("The S3 bucket {0} for query results does not exist.")]
    S3BucketDoesNotExist(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the import run failed: {0}")]
    Run(String),
}
