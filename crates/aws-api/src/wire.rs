//! The wire shapes: requests in, responses out, field names exactly as the model spells them.
//! Domain types never derive `Serialize`; these are converted from them by hand.

use import_engine::{EventDataStore, FailureRecord, ImportRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Epoch seconds with millisecond precision, as CloudTrail writes timestamps.
pub fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Epoch seconds (integer or fractional) as milliseconds.
pub fn millis(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
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
    pub advanced_event_selectors: Option<Value>,
    pub multi_region_enabled: Option<bool>,
    pub organization_enabled: Option<bool>,
    pub retention_period: Option<i64>,
    pub termination_protection_enabled: Option<bool>,
    pub tags_list: Option<Value>,
    pub kms_key_id: Option<String>,
    pub start_ingestion: Option<bool>,
    pub billing_mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateEventDataStoreRequest {
    pub event_data_store: String,
    pub name: Option<String>,
    pub advanced_event_selectors: Option<Value>,
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

/// `StartImport`, `GetImport` and `StopImport` responses (the first without statistics).
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
            import_status: r.status.as_str(),
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
            import_status: r.status.as_str(),
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
            status: f.status.as_str(),
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

/// The settings kept in the store's `details` column.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct EdsDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_event_selectors: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_list: Option<Value>,
}

impl EdsDetails {
    pub fn of(eds: &EventDataStore) -> Self {
        serde_json::from_str(&eds.details).unwrap_or_default()
    }
}

/// An event data store as Create/Get/Update/Restore return it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventDataStoreOut {
    pub event_data_store_arn: String,
    pub name: String,
    pub status: &'static str,
    pub advanced_event_selectors: Value,
    pub multi_region_enabled: bool,
    pub organization_enabled: bool,
    pub retention_period: i64,
    pub termination_protection_enabled: bool,
    pub created_timestamp: f64,
    pub updated_timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    pub billing_mode: String,
}

impl EventDataStoreOut {
    /// `status` overrides the stored status (Create answers `CREATED`).
    pub fn from_store(eds: &EventDataStore, status: Option<&'static str>) -> Self {
        let d = EdsDetails::of(eds);
        EventDataStoreOut {
            event_data_store_arn: eds.arn.clone(),
            name: eds.name.clone(),
            status: status.unwrap_or(eds.status.as_str()),
            advanced_event_selectors: d.advanced_event_selectors.unwrap_or(Value::Array(vec![])),
            multi_region_enabled: eds.multi_region,
            organization_enabled: eds.organization,
            retention_period: eds.retention_days,
            termination_protection_enabled: eds.termination_protection,
            created_timestamp: seconds(eds.created_ms),
            updated_timestamp: seconds(eds.updated_ms),
            kms_key_id: d.kms_key_id,
            billing_mode: eds.billing_mode.clone(),
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
