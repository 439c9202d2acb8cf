//! The one error table: every wire error name and its HTTP status, and the one conversion from
//! engine errors.

use crate::wire::eds_status;
use import_engine::EngineError;

/// Every error this server puts on the wire, spelled as AWS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    AccountHasOngoingImport,
    CloudTrailArnInvalid,
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
    InvalidEventSelectors,
    InvalidImportSource,
    InvalidMaxResults,
    InvalidNextToken,
    InvalidParameter,
    InvalidTagParameter,
    InvalidToken,
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
            InvalidEventSelectors => "InvalidEventSelectorsException",
            InvalidImportSource => "InvalidImportSourceException",
            InvalidMaxResults => "InvalidMaxResultsException",
            InvalidNextToken => "InvalidNextTokenException",
            InvalidParameter => "InvalidParameterException",
            InvalidTagParameter => "InvalidTagParameterException",
            InvalidToken => "InvalidTokenException",
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

/// The one conversion from engine errors.
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
            EngineError::Store(_) | EngineError::Run(_) => C::InternalFailure,
        };
        ApiError::new(code, e.to_string())
    }
}
