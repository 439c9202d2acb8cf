//! The one error table: every wire error name and its HTTP status, and the one conversion from
//! engine errors.

use crate::wire::eds_status;
use import_engine::EngineError;

/// Every error this server puts on the wire, spelled as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    AccountHasOngoingImport,
    CloudTrailArnInvalid,
    Conflict,
    EventDataStoreAlreadyExists,
    EventDataStoreArnInvalid,
    EventDataStoreHasOngoingImport,
    EventDataStoreMaxLimitExceeded,
    EventDataStoreNotFound,
    EventDataStoreTerminationProtected,
    ImportNotFound,
    InactiveEventDataStore,
    InactiveQuery,
    InvalidDateRange,
    InvalidQueryStatement,
    InvalidQueryStatus,
    MaxConcurrentQueries,
    QueryIdNotFound,
    UnsupportedOperation,
    S3BucketDoesNotExist,
    InternalFailure,
    InvalidEventDataStoreCategory,
    InvalidEventDataStoreStatus,
    InvalidEventSelectors,
    InvalidImportSource,
    InvalidMaxResults,
    InvalidNextToken,
    InvalidOperation,
    InvalidParameter,
    InvalidTagParameter,
    InvalidToken,
    OperationAborted,
    OperationNotPermitted,
    RequestEntityTooLarge,
    RequestTimeout,
    ResourceNotFound,
    ResourceTypeNotSupported,
    Serialization,
    TagsLimitExceeded,
    UnknownOperation,
}

impl ErrorCode {
    /// The `__type` on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            AccountHasOngoingImport => "AccountHasOngoingImportException",
            CloudTrailArnInvalid => "CloudTrailARNInvalidException",
            Conflict => "ConflictException",
            EventDataStoreAlreadyExists => "EventDataStoreAlreadyExistsException",
            EventDataStoreArnInvalid => "EventDataStoreARNInvalidException",
            EventDataStoreHasOngoingImport => "EventDataStoreHasOngoingImportException",
            EventDataStoreMaxLimitExceeded => "EventDataStoreMaxLimitExceededException",
            EventDataStoreNotFound => "EventDataStoreNotFoundException",
            EventDataStoreTerminationProtected => "EventDataStoreTerminationProtectedException",
            ImportNotFound => "ImportNotFoundException",
            InactiveEventDataStore => "InactiveEventDataStoreException",
            InactiveQuery => "InactiveQueryException",
            InvalidDateRange => "InvalidDateRangeException",
            InvalidQueryStatement => "InvalidQueryStatementException",
            InvalidQueryStatus => "InvalidQueryStatusException",
            MaxConcurrentQueries => "MaxConcurrentQueriesException",
            QueryIdNotFound => "QueryIdNotFoundException",
            UnsupportedOperation => "UnsupportedOperationException",
            S3BucketDoesNotExist => "S3BucketDoesNotExistException",
            InternalFailure => "InternalFailure",
            InvalidEventDataStoreCategory => "InvalidEventDataStoreCategoryException",
            InvalidEventDataStoreStatus => "InvalidEventDataStoreStatusException",
            InvalidEventSelectors => "InvalidEventSelectorsException",
            InvalidImportSource => "InvalidImportSourceException",
            InvalidMaxResults => "InvalidMaxResultsException",
            InvalidNextToken => "InvalidNextTokenException",
            InvalidOperation => "InvalidOperationException",
            InvalidParameter => "InvalidParameterException",
            InvalidTagParameter => "InvalidTagParameterException",
            InvalidToken => "InvalidTokenException",
            OperationAborted => "OperationAbortedException",
            OperationNotPermitted => "OperationNotPermittedException",
            RequestEntityTooLarge => "RequestEntityTooLargeException",
            RequestTimeout => "RequestTimeoutException",
            ResourceNotFound => "ResourceNotFoundException",
            ResourceTypeNotSupported => "ResourceTypeNotSupportedException",
            Serialization => "SerializationException",
            TagsLimitExceeded => "TagsLimitExceededException",
            UnknownOperation => "UnknownOperationException",
        }
    }

    /// The HTTP status. The CloudTrail API Reference gives 400 for every client error of these
    /// operations (the Smithy model's 404s for the not-found errors are legacy query-protocol
    /// codes); change a row here if a live capture says otherwise.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InternalFailure => 500,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::RequestEntityTooLarge => 413,
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

impl ApiError {
    /// An engine error as CloudWatch Logs names it; what Logs has no name of its own for is
    /// named as CloudTrail names it.
    pub fn logs(e: EngineError) -> Self {
        use ErrorCode as C;
        let code = match &e {
            EngineError::ImportTaskNotFound(_)
            | EngineError::EventDataStoreNotFound(_)
            | EngineError::LogGroupNotFound(_)
            | EngineError::LogStreamNotFound(_)
            | EngineError::ResourceNotFound(_) => C::ResourceNotFound,
            EngineError::InvalidParameter(_) | EngineError::EventDataStoreArnInvalid(_) => {
                C::InvalidParameter
            }
            EngineError::ImportTaskConflict { .. } => C::Conflict,
            EngineError::InvalidEventDataStoreStatus { arn, status, .. } => {
                return ApiError::new(
                    C::InvalidOperation,
                    format!(
                        "The event data store {arn} is {}; an import task needs it ENABLED or STOPPED_INGESTION.",
                        eds_status(*status)
                    ),
                )
            }
            EngineError::ImportTaskLimitExceeded(_)
            | EngineError::ImportTaskNotInProgress(_)
            | EngineError::InactiveEventDataStore(_)
            | EngineError::LogClassNotSupported(_) => C::InvalidOperation,
            EngineError::LogGroupBusy(_) => C::OperationAborted,
            _ => return ApiError::from(e),
        };
        ApiError::new(code, e.to_string())
    }
}

/// The one conversion from engine errors (CloudTrail's names).
impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        use ErrorCode as C;
        let code = match &e {
            EngineError::ImportNotFound(_) => C::ImportNotFound,
            EngineError::EventDataStoreNotFound(_) => C::EventDataStoreNotFound,
            EngineError::EventDataStoreArnInvalid(_) => C::EventDataStoreArnInvalid,
            EngineError::EventDataStoreAlreadyExists(_) => C::EventDataStoreAlreadyExists,
            EngineError::EventDataStoreMaxLimitExceeded { .. } => C::EventDataStoreMaxLimitExceeded,
            EngineError::EventDataStoreTerminationProtected(_) => {
                C::EventDataStoreTerminationProtected
            }
            EngineError::EventDataStoreHasOngoingImport(_) => C::EventDataStoreHasOngoingImport,
            EngineError::InactiveEventDataStore(_) => C::InactiveEventDataStore,
            EngineError::InvalidEventDataStoreStatus {
                arn,
                status,
                needed,
            } => {
                let mut message = format!(
                    "The event data store {arn} is {}, which does not allow this operation",
                    eds_status(*status)
                );
                if let Some(n) = needed {
                    message.push_str(&format!("; it must be {}", eds_status(*n)));
                }
                message.push('.');
                return ApiError::new(C::InvalidEventDataStoreStatus, message);
            }
            EngineError::InvalidEventDataStoreCategory(_) => C::InvalidEventDataStoreCategory,
            EngineError::InvalidEventSelectors(_) => C::InvalidEventSelectors,
            EngineError::InvalidParameter(_) => C::InvalidParameter,
            EngineError::AccountHasOngoingImport(_) => C::AccountHasOngoingImport,
            EngineError::OperationNotPermitted(_) => C::OperationNotPermitted,
            EngineError::InvalidImportSource(_) => C::InvalidImportSource,
            EngineError::CloudTrailArnInvalid(_) => C::CloudTrailArnInvalid,
            EngineError::ResourceTypeNotSupported(_) => C::ResourceTypeNotSupported,
            EngineError::ResourceNotFound(_) => C::ResourceNotFound,
            EngineError::InvalidTagParameter(_) => C::InvalidTagParameter,
            EngineError::TagsLimitExceeded(_) => C::TagsLimitExceeded,
            // Logs errors never arise from a CloudTrail operation.
            EngineError::ImportTaskNotFound(_)
            | EngineError::LogGroupNotFound(_)
            | EngineError::LogStreamNotFound(_) => C::ResourceNotFound,
            EngineError::ImportTaskConflict { .. } => C::Conflict,
            EngineError::ImportTaskLimitExceeded(_)
            | EngineError::ImportTaskNotInProgress(_)
            | EngineError::LogClassNotSupported(_) => C::InvalidOperation,
            EngineError::LogGroupBusy(_) => C::OperationAborted,
            EngineError::InvalidQueryStatement(_) => C::InvalidQueryStatement,
            EngineError::QueryIdNotFound(_) => C::QueryIdNotFound,
            EngineError::MaxConcurrentQueries(_) => C::MaxConcurrentQueries,
            EngineError::InactiveQuery(_) => C::InactiveQuery,
            EngineError::InvalidMaxResults(_) => C::InvalidMaxResults,
            EngineError::InvalidDateRange(_) => C::InvalidDateRange,
            EngineError::UnsupportedOperation(_) => C::UnsupportedOperation,
            EngineError::S3BucketDoesNotExist(_) => C::S3BucketDoesNotExist,
            EngineError::Store(_) | EngineError::Run(_) => C::InternalFailure,
        };
        ApiError::new(code, e.to_string())
    }
}
