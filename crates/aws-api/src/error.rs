//! The one error table: every wire error name and its HTTP status.

use import_engine::EngineError;

/// Every error this server puts on the wire, spelled as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    AccountHasOngoingImport,
    EventDataStoreAlreadyExists,
    EventDataStoreArnInvalid,
    EventDataStoreHasOngoingImport,
    EventDataStoreMaxLimitExceeded,
    EventDataStoreNotFound,
    EventDataStoreTerminationProtected,
    ImportNotFound,
    InactiveEventDataStore,
    InternalFailure,
    InvalidEventDataStoreCategory,
    InvalidEventDataStoreStatus,
    InvalidImportSource,
    InvalidMaxResults,
    InvalidNextToken,
    InvalidParameter,
    OperationNotPermitted,
    Serialization,
    UnknownOperation,
}

impl ErrorCode {
    /// The `__type` on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            AccountHasOngoingImport => "AccountHasOngoingImportException",
            EventDataStoreAlreadyExists => "EventDataStoreAlreadyExistsException",
            EventDataStoreArnInvalid => "EventDataStoreARNInvalidException",
            EventDataStoreHasOngoingImport => "EventDataStoreHasOngoingImportException",
            EventDataStoreMaxLimitExceeded => "EventDataStoreMaxLimitExceededException",
            EventDataStoreNotFound => "EventDataStoreNotFoundException",
            EventDataStoreTerminationProtected => "EventDataStoreTerminationProtectedException",
            ImportNotFound => "ImportNotFoundException",
            InactiveEventDataStore => "InactiveEventDataStoreException",
            InternalFailure => "InternalFailure",
            InvalidEventDataStoreCategory => "InvalidEventDataStoreCategoryException",
            InvalidEventDataStoreStatus => "InvalidEventDataStoreStatusException",
            InvalidImportSource => "InvalidImportSourceException",
            InvalidMaxResults => "InvalidMaxResultsException",
            InvalidNextToken => "InvalidNextTokenException",
            InvalidParameter => "InvalidParameterException",
            OperationNotPermitted => "OperationNotPermittedException",
            Serialization => "SerializationException",
            UnknownOperation => "UnknownOperationException",
        }
    }

    /// The HTTP status. The CloudTrail API Reference gives 400 for every client error of these
    /// operations (the Smithy model's 404s for the not-found errors are legacy query-protocol
    /// codes); change a row here if a live capture says otherwise.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InternalFailure => 500,
            _ => 400,
        }
    }
}

/// An error answer: a code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

/// The one conversion from engine errors.
impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let code = match &e {
            EngineError::ImportNotFound(_) => ErrorCode::ImportNotFound,
            EngineError::EventDataStoreNotFound(_) => ErrorCode::EventDataStoreNotFound,
            EngineError::InactiveEventDataStore(_) => ErrorCode::InactiveEventDataStore,
            EngineError::InvalidEventDataStoreStatus(..) => ErrorCode::InvalidEventDataStoreStatus,
            EngineError::AccountHasOngoingImport(_) => ErrorCode::AccountHasOngoingImport,
            EngineError::OperationNotPermitted(_) => ErrorCode::OperationNotPermitted,
            EngineError::InvalidImportSource(_) => ErrorCode::InvalidImportSource,
            EngineError::Store(_) | EngineError::Writer(_) => ErrorCode::InternalFailure,
        };
        ApiError::new(code, e.to_string())
    }
}
