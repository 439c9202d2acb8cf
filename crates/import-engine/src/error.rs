//! Errors of the import lifecycle, named for the conditions the API reports.

use event_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("The specified import was not found: {0}")]
    ImportNotFound(String),
    #[error("The specified event data store was not found: {0}")]
    EventDataStoreNotFound(String),
    #[error("The event data store {0} is not active (pending deletion).")]
    InactiveEventDataStore(String),
    #[error("The event data store {0} is in status {1}, which does not accept imports.")]
    InvalidEventDataStoreStatus(String, String),
    #[error("The account already has an ongoing import: {0}")]
    AccountHasOngoingImport(String),
    #[error("{0}")]
    OperationNotPermitted(String),
    #[error("The import source is not valid: {0}")]
    InvalidImportSource(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the writer thread stopped: {0}")]
    Writer(String),
}
