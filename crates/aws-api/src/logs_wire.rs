//! CloudWatch Logs' wire shapes: requests in, responses out, member names exactly as the
//! model spells them (lower camel case), times in epoch milliseconds, and the spelling of every
//! status. As in `wire`, domain types are converted here by hand.

use import_engine::{LogBatch, LogEventRow, LogGroup, LogStream, LogTask, LogTaskStatus};
use serde::{Deserialize, Serialize};

/// An import task's or batch's status on the wire.
pub fn task_status(s: LogTaskStatus) -> &'static str {
    match s {
        LogTaskStatus::InProgress => "IN_PROGRESS",
        LogTaskStatus::Cancelled => "CANCELLED",
        LogTaskStatus::Completed => "COMPLETED",
        LogTaskStatus::Failed => "FAILED",
    }
}

pub fn parse_task_status(s: &str) -> Option<LogTaskStatus> {
    LogTaskStatus::ALL
        .into_iter()
        .find(|v| task_status(*v) == s)
}

/// A message as text (records are UTF-8 JSON; anything else is shown with replacements).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---- requests ----

#[derive(Deserialize, Serialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct ImportFilterW {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_event_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_event_time: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreateImportTaskRequest {
    pub import_source_arn: String,
    pub import_role_arn: String,
    pub import_filter: Option<ImportFilterW>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImportTasksRequest {
    pub import_id: Option<String>,
    pub import_status: Option<String>,
    pub import_source_arn: Option<String>,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImportTaskBatchesRequest {
    pub import_id: String,
    pub batch_import_status: Option<Vec<String>>,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CancelImportTaskRequest {
    pub import_id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsRequest {
    pub log_group_name_prefix: Option<String>,
    pub log_group_name_pattern: Option<String>,
    pub log_group_class: Option<String>,
    pub log_group_identifiers: Option<Vec<String>>,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsRequest {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_name_prefix: Option<String>,
    pub order_by: Option<String>,
    pub descending: Option<bool>,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsRequest {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_name: String,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub limit: Option<usize>,
    pub start_from_head: Option<bool>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsRequest {
    pub log_group_name: Option<String>,
    pub log_group_identifier: Option<String>,
    pub log_stream_names: Option<Vec<String>>,
    pub log_stream_name_prefix: Option<String>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub filter_pattern: Option<String>,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeleteLogGroupRequest {
    pub log_group_name: String,
}

// ---- responses ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateImportTaskResponse {
    pub import_id: String,
    pub import_destination_arn: String,
    pub creation_time: i64,
}

impl From<&LogTask> for CreateImportTaskResponse {
    fn from(t: &LogTask) -> Self {
        CreateImportTaskResponse {
            import_id: t.id.clone(),
            import_destination_arn: t.destination_arn.clone(),
            creation_time: t.created_ms,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportStatisticsW {
    pub bytes_imported: i64,
}

/// An `Import`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportW {
    pub import_id: String,
    pub import_source_arn: String,
    pub import_status: &'static str,
    pub import_destination_arn: String,
    pub import_statistics: ImportStatisticsW,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_filter: Option<ImportFilterW>,
    pub creation_time: i64,
    pub last_updated_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl From<&LogTask> for ImportW {
    fn from(t: &LogTask) -> Self {
        let filter = (t.start_ms.is_some() || t.end_ms.is_some()).then_some(ImportFilterW {
            start_event_time: t.start_ms,
            end_event_time: t.end_ms,
        });
        ImportW {
            import_id: t.id.clone(),
            import_source_arn: t.source_arn.clone(),
            import_status: task_status(t.status),
            import_destination_arn: t.destination_arn.clone(),
            import_statistics: ImportStatisticsW {
                bytes_imported: t.bytes_imported,
            },
            import_filter: filter,
            creation_time: t.created_ms,
            last_updated_time: t.updated_ms,
            error_message: t.error_message.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImportTasksResponse {
    pub imports: Vec<ImportW>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportBatchW {
    pub batch_id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl From<&LogBatch> for ImportBatchW {
    fn from(b: &LogBatch) -> Self {
        ImportBatchW {
            batch_id: b.batch_id.clone(),
            status: task_status(b.status),
            error_message: b.error_message.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeImportTaskBatchesResponse {
    pub import_source_arn: String,
    pub import_id: String,
    pub import_batches: Vec<ImportBatchW>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelImportTaskResponse {
    pub import_id: String,
    pub import_statistics: ImportStatisticsW,
    pub import_status: &'static str,
    pub creation_time: i64,
    pub last_updated_time: i64,
}

impl From<&LogTask> for CancelImportTaskResponse {
    fn from(t: &LogTask) -> Self {
        CancelImportTaskResponse {
            import_id: t.id.clone(),
            import_statistics: ImportStatisticsW {
                bytes_imported: t.bytes_imported,
            },
            import_status: task_status(t.status),
            creation_time: t.created_ms,
            last_updated_time: t.updated_ms,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupW {
    pub log_group_name: String,
    pub creation_time: i64,
    pub metric_filter_count: i64,
    pub arn: String,
    pub stored_bytes: i64,
    pub log_group_class: String,
    pub log_group_arn: String,
}

impl From<&LogGroup> for LogGroupW {
    fn from(g: &LogGroup) -> Self {
        LogGroupW {
            log_group_name: g.name.clone(),
            creation_time: g.created_ms,
            metric_filter_count: 0,
            arn: format!("{}:*", g.arn),
            stored_bytes: g.stored_bytes,
            log_group_class: g.class.clone(),
            log_group_arn: g.arn.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsResponse {
    pub log_groups: Vec<LogGroupW>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStreamW {
    pub log_stream_name: String,
    pub creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ingestion_time: Option<i64>,
    pub arn: String,
    /// Deprecated by AWS, always 0.
    pub stored_bytes: i64,
}

impl LogStreamW {
    pub fn new(group: &LogGroup, s: &LogStream) -> Self {
        LogStreamW {
            log_stream_name: s.name.clone(),
            creation_time: s.created_ms,
            first_event_timestamp: s.first_event_ms,
            last_event_timestamp: s.last_event_ms,
            last_ingestion_time: s.last_ingestion_ms,
            arn: format!("{}:log-stream:{}", group.arn, s.name),
            stored_bytes: 0,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogStreamsResponse {
    pub log_streams: Vec<LogStreamW>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputLogEventW {
    pub timestamp: i64,
    pub message: String,
    pub ingestion_time: i64,
}

impl From<&LogEventRow> for OutputLogEventW {
    fn from(e: &LogEventRow) -> Self {
        OutputLogEventW {
            timestamp: e.timestamp_ms,
            message: text(&e.message),
            ingestion_time: e.ingestion_ms,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLogEventsResponse {
    pub events: Vec<OutputLogEventW>,
    pub next_forward_token: String,
    pub next_backward_token: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilteredLogEventW {
    pub log_stream_name: String,
    pub timestamp: i64,
    pub message: String,
    pub ingestion_time: i64,
    pub event_id: String,
}

impl From<&LogEventRow> for FilteredLogEventW {
    fn from(e: &LogEventRow) -> Self {
        FilteredLogEventW {
            log_stream_name: e.stream.clone(),
            timestamp: e.timestamp_ms,
            message: text(&e.message),
            ingestion_time: e.ingestion_ms,
            event_id: e.num.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterLogEventsResponse {
    pub events: Vec<FilteredLogEventW>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}
