//! CloudTrail's wire shapes: requests in, responses out, member names exactly as the model
//! spells them, and the spelling of every status and enum. Domain types never derive
//! `Serialize`; they are converted here, by hand, so a rename in the engine cannot silently
//! change the wire.

use import_engine::{
    AdvancedEventSelector, AdvancedFieldSelector, BillingMode, EventDataStore,
    EventDataStoreStatus, FailureRecord, FailureStatus, ImportRecord, ImportStatus, QueryRecord,
    QueryStatus, Tag,
};
use serde::{Deserialize, Serialize};

/// Epoch seconds with millisecond precision, as CloudTrail writes timestamps.
pub fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Epoch seconds (integer or fractional) as milliseconds.
pub fn millis(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

/// `ImportStatus` on the wire.
pub fn import_status(s: ImportStatus) -> &'static str {
    match s {
        ImportStatus::Initializing => "INITIALIZING",
        ImportStatus::InProgress => "IN_PROGRESS",
        ImportStatus::Failed => "FAILED",
        ImportStatus::Stopped => "STOPPED",
        ImportStatus::Completed => "COMPLETED",
    }
}

pub fn parse_import_status(s: &str) -> Option<ImportStatus> {
    ImportStatus::ALL
        .into_iter()
        .find(|v| import_status(*v) == s)
}

/// `EventDataStoreStatus` on the wire.
pub fn eds_status(s: EventDataStoreStatus) -> &'static str {
    match s {
        EventDataStoreStatus::Created => "CREATED",
        EventDataStoreStatus::Enabled => "ENABLED",
        EventDataStoreStatus::PendingDeletion => "PENDING_DELETION",
        EventDataStoreStatus::StartingIngestion => "STARTING_INGESTION",
        EventDataStoreStatus::StoppingIngestion => "STOPPING_INGESTION",
        EventDataStoreStatus::StoppedIngestion => "STOPPED_INGESTION",
    }
}

/// `ImportFailureStatus` on the wire.
pub fn failure_status(s: FailureStatus) -> &'static str {
    match s {
        FailureStatus::Failed => "FAILED",
        FailureStatus::Retry => "RETRY",
        FailureStatus::Succeeded => "SUCCEEDED",
    }
}

/// `BillingMode` on the wire.
pub fn billing_mode(b: BillingMode) -> &'static str {
    match b {
        BillingMode::ExtendableRetention => "EXTENDABLE_RETENTION_PRICING",
        BillingMode::FixedRetention => "FIXED_RETENTION_PRICING",
    }
}

pub fn parse_billing_mode(s: &str) -> Option<BillingMode> {
    [
        BillingMode::ExtendableRetention,
        BillingMode::FixedRetention,
    ]
    .into_iter()
    .find(|b| billing_mode(*b) == s)
}

// ---- shared members ----

#[derive(Serialize, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct TagW {
    #[serde(default)]
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl From<TagW> for Tag {
    fn from(t: TagW) -> Tag {
        Tag {
            key: t.key,
            value: t.value,
        }
    }
}

impl From<&Tag> for TagW {
    fn from(t: &Tag) -> TagW {
        TagW {
            key: t.key.clone(),
            value: t.value.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelectorW {
    #[serde(default)]
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_starts_with: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_ends_with: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct SelectorW {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub field_selectors: Vec<FieldSelectorW>,
}

impl From<SelectorW> for AdvancedEventSelector {
    fn from(s: SelectorW) -> Self {
        AdvancedEventSelector {
            name: s.name,
            field_selectors: s
                .field_selectors
                .into_iter()
                .map(|f| AdvancedFieldSelector {
                    field: f.field,
                    equals: f.equals,
                    starts_with: f.starts_with,
                    ends_with: f.ends_with,
                    not_equals: f.not_equals,
                    not_starts_with: f.not_starts_with,
                    not_ends_with: f.not_ends_with,
                })
                .collect(),
        }
    }
}

impl From<&AdvancedEventSelector> for SelectorW {
    fn from(s: &AdvancedEventSelector) -> Self {
        SelectorW {
            name: s.name.clone(),
            field_selectors: s
                .field_selectors
                .iter()
                .map(|f| FieldSelectorW {
                    field: f.field.clone(),
                    equals: f.equals.clone(),
                    starts_with: f.starts_with.clone(),
                    ends_with: f.ends_with.clone(),
                    not_equals: f.not_equals.clone(),
                    not_starts_with: f.not_starts_with.clone(),
                    not_ends_with: f.not_ends_with.clone(),
                })
                .collect(),
        }
    }
}

// ---- requests ----

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct S3ImportSource {
    #[serde(rename = "S3LocationUri")]
    pub s3_location_uri: String,
    #[serde(rename = "S3BucketRegion")]
    pub s3_bucket_region: String,
    #[serde(rename = "S3BucketAccessRoleArn")]
    pub s3_bucket_access_role_arn: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ImportSourceIn {
    #[serde(rename = "S3")]
    pub s3: Option<S3ImportSource>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct StartImportRequest {
    pub destinations: Option<Vec<String>>,
    pub import_source: Option<ImportSourceIn>,
    pub start_event_time: Option<f64>,
    pub end_event_time: Option<f64>,
    pub import_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImportIdRequest {
    pub import_id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListImportsRequest {
    pub max_results: Option<usize>,
    pub destination: Option<String>,
    pub import_status: Option<String>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListImportFailuresRequest {
    pub import_id: String,
    pub max_results: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateEventDataStoreRequest {
    pub name: String,
    pub advanced_event_selectors: Option<Vec<SelectorW>>,
    pub multi_region_enabled: Option<bool>,
    pub organization_enabled: Option<bool>,
    pub retention_period: Option<i64>,
    pub termination_protection_enabled: Option<bool>,
    pub tags_list: Option<Vec<TagW>>,
    pub kms_key_id: Option<String>,
    pub start_ingestion: Option<bool>,
    pub billing_mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateEventDataStoreRequest {
    pub event_data_store: String,
    pub name: Option<String>,
    pub advanced_event_selectors: Option<Vec<SelectorW>>,
    pub multi_region_enabled: Option<bool>,
    pub organization_enabled: Option<bool>,
    pub retention_period: Option<i64>,
    pub termination_protection_enabled: Option<bool>,
    pub kms_key_id: Option<String>,
    pub billing_mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct EventDataStoreRequest {
    pub event_data_store: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListEventDataStoresRequest {
    pub next_token: Option<String>,
    pub max_results: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct TagsRequest {
    pub resource_id: String,
    pub tags_list: Vec<TagW>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct ListTagsRequest {
    pub resource_id_list: Vec<String>,
    pub next_token: Option<String>,
}

// ---- responses ----

#[derive(Serialize)]
pub struct S3ImportSourceOut {
    #[serde(rename = "S3LocationUri")]
    pub s3_location_uri: String,
    #[serde(rename = "S3BucketRegion")]
    pub s3_bucket_region: String,
    #[serde(rename = "S3BucketAccessRoleArn")]
    pub s3_bucket_access_role_arn: String,
}

#[derive(Serialize)]
pub struct ImportSourceOut {
    #[serde(rename = "S3")]
    pub s3: S3ImportSourceOut,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportStatisticsOut {
    pub prefixes_found: i64,
    pub prefixes_completed: i64,
    pub files_completed: i64,
    pub events_completed: i64,
    pub failed_entries: i64,
}

/// `StartImport`, `GetImport` and `StopImport` responses (the first without statistics), and
/// the command line's `--json` output.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportOut {
    pub import_id: String,
    pub destinations: Vec<String>,
    pub import_source: ImportSourceOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_event_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_event_time: Option<f64>,
    pub import_status: &'static str,
    pub created_timestamp: f64,
    pub updated_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_statistics: Option<ImportStatisticsOut>,
}

impl ImportOut {
    pub fn from_record(r: &ImportRecord, with_statistics: bool) -> Self {
        let s = r.statistics;
        ImportOut {
            import_id: r.id.clone(),
            destinations: vec![r.destination.clone()],
            import_source: ImportSourceOut {
                s3: S3ImportSourceOut {
                    s3_location_uri: r.source_uri.clone(),
                    s3_bucket_region: r.bucket_region.clone(),
                    s3_bucket_access_role_arn: r.role_arn.clone(),
                },
            },
            start_event_time: r.start_ms.map(seconds),
            end_event_time: r.end_ms.map(seconds),
            import_status: import_status(r.status),
            created_timestamp: seconds(r.created_ms),
            updated_timestamp: seconds(r.updated_ms),
            import_statistics: with_statistics.then_some(ImportStatisticsOut {
                prefixes_found: s.prefixes_found,
                prefixes_completed: s.prefixes_completed,
                files_completed: s.files_completed,
                events_completed: s.events_completed,
                failed_entries: s.failed_entries,
            }),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportsListItem {
    pub import_id: String,
    pub import_status: &'static str,
    pub destinations: Vec<String>,
    pub created_timestamp: f64,
    pub updated_timestamp: f64,
}

impl From<&ImportRecord> for ImportsListItem {
    fn from(r: &ImportRecord) -> Self {
        ImportsListItem {
            import_id: r.id.clone(),
            import_status: import_status(r.status),
            destinations: vec![r.destination.clone()],
            created_timestamp: seconds(r.created_ms),
            updated_timestamp: seconds(r.updated_ms),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListImportsResponse {
    pub imports: Vec<ImportsListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportFailureListItem {
    pub location: String,
    pub status: &'static str,
    pub error_type: String,
    pub error_message: String,
    pub last_updated_time: f64,
}

impl From<&FailureRecord> for ImportFailureListItem {
    fn from(f: &FailureRecord) -> Self {
        ImportFailureListItem {
            location: f.location.clone(),
            status: failure_status(f.status),
            error_type: f.error_type.clone(),
            error_message: f.error_message.clone(),
            last_updated_time: seconds(f.updated_ms),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListImportFailuresResponse {
    pub failures: Vec<ImportFailureListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// An event data store as Create/Get/Update/Restore return it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventDataStoreOut {
    pub event_data_store_arn: String,
    pub name: String,
    pub status: &'static str,
    pub advanced_event_selectors: Vec<SelectorW>,
    pub multi_region_enabled: bool,
    pub organization_enabled: bool,
    pub retention_period: i64,
    pub termination_protection_enabled: bool,
    pub created_timestamp: f64,
    pub updated_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    pub billing_mode: &'static str,
    /// Only CreateEventDataStore's response carries the tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_list: Option<Vec<TagW>>,
}

impl From<&EventDataStore> for EventDataStoreOut {
    fn from(eds: &EventDataStore) -> Self {
        EventDataStoreOut {
            event_data_store_arn: eds.arn.clone(),
            name: eds.name.clone(),
            status: eds_status(eds.status),
            advanced_event_selectors: eds.selectors.iter().map(SelectorW::from).collect(),
            multi_region_enabled: eds.multi_region,
            organization_enabled: eds.organization,
            retention_period: eds.retention_days,
            termination_protection_enabled: eds.termination_protection,
            created_timestamp: seconds(eds.created_ms),
            updated_timestamp: seconds(eds.updated_ms),
            kms_key_id: eds.kms_key_id.clone(),
            billing_mode: billing_mode(eds.billing_mode),
            tags_list: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventDataStoreListItem {
    pub event_data_store_arn: String,
    pub name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEventDataStoresResponse {
    pub event_data_stores: Vec<EventDataStoreListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceTagOut {
    pub resource_id: String,
    pub tags_list: Vec<TagW>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsResponse {
    pub resource_tag_list: Vec<ResourceTagOut>,
}

/// An empty response body, `{}`.
#[derive(Serialize)]
pub struct Empty {}

// ---------------------------------------------------------------------------------------------
// Lake queries

/// `QueryStatus` on the wire.
pub fn query_status(s: QueryStatus) -> &'static str {
    match s {
        QueryStatus::Queued => "QUEUED",
        QueryStatus::Running => "RUNNING",
        QueryStatus::Finished => "FINISHED",
        QueryStatus::Failed => "FAILED",
        QueryStatus::Cancelled => "CANCELLED",
        QueryStatus::TimedOut => "TIMED_OUT",
    }
}

pub fn parse_query_status(s: &str) -> Option<QueryStatus> {
    QueryStatus::ALL.into_iter().find(|v| query_status(*v) == s)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartQueryRequest {
    pub query_statement: Option<String>,
    pub delivery_s3_uri: Option<String>,
    pub query_alias: Option<String>,
    pub query_parameters: Option<Vec<String>>,
    pub event_data_store_owner_account_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartQueryResponse {
    pub query_id: String,
}

/// GetQueryResults, DescribeQuery and CancelQuery: the deprecated `EventDataStore` member is
/// accepted and not used (a query may read several stores).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryIdRequest {
    #[allow(dead_code)]
    pub event_data_store: Option<String>,
    pub query_id: Option<String>,
    pub query_alias: Option<String>,
    pub next_token: Option<String>,
    pub max_query_results: Option<usize>,
    #[allow(dead_code)]
    pub refresh_id: Option<String>,
    #[allow(dead_code)]
    pub event_data_store_owner_account_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryStatisticsOut {
    pub results_count: i64,
    pub total_results_count: i64,
    pub bytes_scanned: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetQueryResultsResponse {
    pub query_status: &'static str,
    pub query_statistics: QueryStatisticsOut,
    pub query_result_rows: Vec<Vec<serde_json::Map<String, serde_json::Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeStatisticsOut {
    pub events_matched: i64,
    pub events_scanned: i64,
    pub bytes_scanned: i64,
    pub execution_time_in_millis: i64,
    pub creation_time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeQueryResponse {
    pub query_id: String,
    pub query_string: String,
    pub query_status: &'static str,
    pub query_statistics: DescribeStatisticsOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_s3_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_status: Option<String>,
}

impl DescribeQueryResponse {
    pub fn from_record(q: &QueryRecord) -> Self {
        DescribeQueryResponse {
            query_id: q.id.clone(),
            query_string: q.statement.clone(),
            query_status: query_status(q.status),
            query_statistics: DescribeStatisticsOut {
                events_matched: q.stats.events_matched,
                events_scanned: q.stats.events_scanned,
                bytes_scanned: q.stats.bytes_scanned,
                execution_time_in_millis: q.stats.exec_ms,
                creation_time: seconds(q.created_ms),
            },
            error_message: q.error_message.clone(),
            delivery_s3_uri: q.delivery_uri.clone(),
            delivery_status: q.delivery_status.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListQueriesRequest {
    pub event_data_store: String,
    pub next_token: Option<String>,
    pub max_results: Option<usize>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub query_status: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryListItem {
    pub query_id: String,
    pub query_status: &'static str,
    pub creation_time: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListQueriesResponse {
    pub queries: Vec<QueryListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelQueryResponse {
    pub query_id: String,
    pub query_status: &'static str,
}
