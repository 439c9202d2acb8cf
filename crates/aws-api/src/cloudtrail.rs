//! CloudTrail operations: decode the request, make one engine call, encode the answer.

use crate::error::{ApiError, ErrorCode};
use crate::token::Tokens;
use crate::wire::*;
use crate::{App, Ctx};
use import_engine::{
    CreateEventDataStore, ImportCursor, ListImports, ListQueries, StartImport, StartQuery, Tag,
    UpdateEventDataStore, MAX_QUERY_RESULTS,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The page size when a request names none.
const DEFAULT_PAGE: usize = 1000;

/// The operations served; the model's others are `UnknownOperationException`.
pub const OPERATIONS: &[&str] = &[
    "CreateEventDataStore",
    "GetEventDataStore",
    "ListEventDataStores",
    "UpdateEventDataStore",
    "DeleteEventDataStore",
    "RestoreEventDataStore",
    "StartEventDataStoreIngestion",
    "StopEventDataStoreIngestion",
    "AddTags",
    "RemoveTags",
    "ListTags",
    "StartImport",
    "GetImport",
    "StopImport",
    "ListImports",
    "ListImportFailures",
    "StartQuery",
    "GetQueryResults",
    "DescribeQuery",
    "ListQueries",
    "CancelQuery",
];

/// Runs one CloudTrail operation on an input the model already checked.
pub fn dispatch(app: &App, ctx: &Ctx, op: &str, input: Value) -> Result<Value, ApiError> {
    match op {
        "CreateEventDataStore" => out(create_eds(app, ctx, decode(input)?)),
        "GetEventDataStore" => out(get_eds(app, ctx, decode(input)?)),
        "ListEventDataStores" => out(list_eds(app, ctx, decode(input)?)),
        "UpdateEventDataStore" => out(update_eds(app, ctx, decode(input)?)),
        "DeleteEventDataStore" => out(delete_eds(app, ctx, decode(input)?)),
        "RestoreEventDataStore" => out(restore_eds(app, ctx, decode(input)?)),
        "StartEventDataStoreIngestion" => out(ingestion(app, ctx, decode(input)?, true)),
        "StopEventDataStoreIngestion" => out(ingestion(app, ctx, decode(input)?, false)),
        "AddTags" => out(add_tags(app, ctx, decode(input)?)),
        "RemoveTags" => out(remove_tags(app, ctx, decode(input)?)),
        "ListTags" => out(list_tags(app, ctx, decode(input)?)),
        "StartImport" => out(start_import(app, ctx, decode(input)?)),
        "GetImport" => out(get_import(app, ctx, decode(input)?)),
        "StopImport" => out(stop_import(app, ctx, decode(input)?)),
        "ListImports" => out(list_imports(app, ctx, decode(input)?)),
        "ListImportFailures" => out(list_failures(app, ctx, decode(input)?)),
        "StartQuery" => out(start_query(app, ctx, decode(input)?)),
        "GetQueryResults" => out(get_query_results(app, ctx, decode(input)?)),
        "DescribeQuery" => out(describe_query(app, ctx, decode(input)?)),
        "ListQueries" => out(list_queries(app, ctx, decode(input)?)),
        "CancelQuery" => out(cancel_query(app, ctx, decode(input)?)),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("Operation {op} is not supported by this emulator."),
        )),
    }
}

/// A request's members as its wire shape (types the model check let through, e.g. an
/// integer too large, are `SerializationException`).
pub(crate) fn decode<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input)
        .map_err(|e| ApiError::new(ErrorCode::Serialization, e.to_string()))
}

/// An answer as JSON.
pub(crate) fn out<T: Serialize>(r: Result<T, ApiError>) -> Result<Value, ApiError> {
    let v = r?;
    serde_json::to_value(v).map_err(|e| ApiError::new(ErrorCode::InternalFailure, e.to_string()))
}

pub(crate) fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, msg)
}

fn billing(s: Option<String>) -> Result<Option<import_engine::BillingMode>, ApiError> {
    // The model's enum check has run; anything else cannot reach here.
    s.map(|b| parse_billing_mode(&b).ok_or_else(|| invalid(format!("Unknown BillingMode {b}."))))
        .transpose()
}

// ---- event data stores ----

fn create_eds(
    app: &App,
    ctx: &Ctx,
    r: CreateEventDataStoreRequest,
) -> Result<EventDataStoreOut, ApiError> {
    let created = app.engine.create_event_data_store(CreateEventDataStore {
        scope: ctx.scope(),
        name: r.name,
        selectors: r
            .advanced_event_selectors
            .map(|s| s.into_iter().map(Into::into).collect()),
        multi_region: r.multi_region_enabled,
        organization: r.organization_enabled,
        retention_days: r.retention_period,
        termination_protection: r.termination_protection_enabled,
        tags: r
            .tags_list
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        kms_key_id: r.kms_key_id,
        start_ingestion: r.start_ingestion,
        billing_mode: billing(r.billing_mode)?,
    })?;
    let mut out = EventDataStoreOut::from(&created.store);
    out.tags_list = Some(created.tags.iter().map(TagW::from).collect());
    Ok(out)
}

fn get_eds(app: &App, ctx: &Ctx, r: EventDataStoreRequest) -> Result<EventDataStoreOut, ApiError> {
    let eds = app
        .engine
        .get_event_data_store(&ctx.scope(), &r.event_data_store)?;
    Ok(EventDataStoreOut::from(&eds))
}

fn list_eds(
    app: &App,
    ctx: &Ctx,
    r: ListEventDataStoresRequest,
) -> Result<ListEventDataStoresResponse, ApiError> {
    let tokens = Tokens::new("ListEventDataStores", &[], ErrorCode::InvalidNextToken);
    let after = tokens.num_cursor(r.next_token.as_deref())?;
    let page = app.engine.list_event_data_stores(
        &ctx.scope(),
        after,
        r.max_results.unwrap_or(DEFAULT_PAGE),
    )?;
    Ok(ListEventDataStoresResponse {
        event_data_stores: page
            .items
            .iter()
            .map(|e| EventDataStoreListItem {
                event_data_store_arn: e.arn.clone(),
                name: e.name.clone(),
            })
            .collect(),
        next_token: page.next.map(|n| tokens.num_token(n)),
    })
}

fn update_eds(
    app: &App,
    ctx: &Ctx,
    r: UpdateEventDataStoreRequest,
) -> Result<EventDataStoreOut, ApiError> {
    let eds = app.engine.update_event_data_store(UpdateEventDataStore {
        scope: ctx.scope(),
        event_data_store: r.event_data_store,
        name: r.name,
        selectors: r
            .advanced_event_selectors
            .map(|s| s.into_iter().map(Into::into).collect()),
        multi_region: r.multi_region_enabled,
        organization: r.organization_enabled,
        retention_days: r.retention_period,
        termination_protection: r.termination_protection_enabled,
        kms_key_id: r.kms_key_id,
        billing_mode: billing(r.billing_mode)?,
    })?;
    Ok(EventDataStoreOut::from(&eds))
}

fn delete_eds(app: &App, ctx: &Ctx, r: EventDataStoreRequest) -> Result<Empty, ApiError> {
    app.engine
        .delete_event_data_store(&ctx.scope(), &r.event_data_store)?;
    Ok(Empty {})
}

fn restore_eds(
    app: &App,
    ctx: &Ctx,
    r: EventDataStoreRequest,
) -> Result<EventDataStoreOut, ApiError> {
    let eds = app
        .engine
        .restore_event_data_store(&ctx.scope(), &r.event_data_store)?;
    Ok(EventDataStoreOut::from(&eds))
}

fn ingestion(
    app: &App,
    ctx: &Ctx,
    r: EventDataStoreRequest,
    start: bool,
) -> Result<Empty, ApiError> {
    app.engine
        .set_ingestion(&ctx.scope(), &r.event_data_store, start)?;
    Ok(Empty {})
}

fn add_tags(app: &App, ctx: &Ctx, r: TagsRequest) -> Result<Empty, ApiError> {
    let tags: Vec<Tag> = r.tags_list.into_iter().map(Into::into).collect();
    app.engine.add_tags(&ctx.scope(), &r.resource_id, &tags)?;
    Ok(Empty {})
}

fn remove_tags(app: &App, ctx: &Ctx, r: TagsRequest) -> Result<Empty, ApiError> {
    let keys: Vec<&str> = r.tags_list.iter().map(|t| t.key.as_str()).collect();
    app.engine
        .remove_tags(&ctx.scope(), &r.resource_id, &keys)?;
    Ok(Empty {})
}

fn list_tags(app: &App, ctx: &Ctx, r: ListTagsRequest) -> Result<ListTagsResponse, ApiError> {
    // Every resource's tags fit in one answer: no token is ever issued.
    if r.next_token.is_some() {
        return Err(ApiError::new(
            ErrorCode::InvalidToken,
            "The NextToken is not valid: ListTags answers in one page.",
        ));
    }
    let listed = app.engine.list_tags(&ctx.scope(), &r.resource_id_list)?;
    Ok(ListTagsResponse {
        resource_tag_list: listed
            .iter()
            .map(|r| ResourceTagOut {
                resource_id: r.resource_id.clone(),
                tags_list: r.tags.iter().map(TagW::from).collect(),
            })
            .collect(),
    })
}

// ---- imports ----

fn start_import(app: &App, ctx: &Ctx, r: StartImportRequest) -> Result<ImportOut, ApiError> {
    if let Some(id) = r.import_id {
        // A retry: only the ImportId counts; the rest of the request is ignored.
        let record = app.engine.retry_import(&ctx.scope(), &id)?;
        return Ok(ImportOut::from_record(&record, false));
    }
    let (Some(destinations), Some(source)) = (r.destinations, r.import_source) else {
        return Err(invalid("Destinations and ImportSource are required to start a new import; ImportId alone retries one."));
    };
    let s3 = source
        .s3
        .ok_or_else(|| invalid("ImportSource.S3 is required."))?;
    let time = |s: Option<f64>| s.and_then(|s| chrono::DateTime::from_timestamp_millis(millis(s)));
    let record = app.engine.start_import(StartImport {
        scope: ctx.scope(),
        destination: destinations.into_iter().next().unwrap_or_default(),
        source_uri: s3.s3_location_uri,
        bucket_region: s3.s3_bucket_region,
        role_arn: s3.s3_bucket_access_role_arn,
        start: time(r.start_event_time),
        end: time(r.end_event_time),
        source_root: None,
    })?;
    Ok(ImportOut::from_record(&record, false))
}

fn get_import(app: &App, ctx: &Ctx, r: ImportIdRequest) -> Result<ImportOut, ApiError> {
    let record = app.engine.get_import(&ctx.scope(), &r.import_id)?;
    Ok(ImportOut::from_record(&record, true))
}

fn stop_import(app: &App, ctx: &Ctx, r: ImportIdRequest) -> Result<ImportOut, ApiError> {
    let record = app.engine.stop_import(&ctx.scope(), &r.import_id)?;
    Ok(ImportOut::from_record(&record, true))
}

fn list_imports(
    app: &App,
    ctx: &Ctx,
    r: ListImportsRequest,
) -> Result<ListImportsResponse, ApiError> {
    let filters = [
        r.destination.as_deref().unwrap_or(""),
        r.import_status.as_deref().unwrap_or(""),
    ];
    let tokens = Tokens::new("ListImports", &filters, ErrorCode::InvalidNextToken);
    let after = tokens
        .num_cursor(r.next_token.as_deref())?
        .map(ImportCursor);
    let page = app.engine.list_imports(&ListImports {
        scope: ctx.scope(),
        destination: r.destination,
        // The model's enum check has run: every value parses.
        status: r.import_status.as_deref().and_then(parse_import_status),
        after,
        limit: r.max_results.unwrap_or(DEFAULT_PAGE),
    })?;
    Ok(ListImportsResponse {
        imports: page.items.iter().map(ImportsListItem::from).collect(),
        next_token: page.next.map(|c| tokens.num_token(c.0)),
    })
}

fn list_failures(
    app: &App,
    ctx: &Ctx,
    r: ListImportFailuresRequest,
) -> Result<ListImportFailuresResponse, ApiError> {
    let tokens = Tokens::new(
        "ListImportFailures",
        &[&r.import_id],
        ErrorCode::InvalidNextToken,
    );
    let after = tokens.num_cursor(r.next_token.as_deref())?;
    let page = app.engine.list_import_failures(
        &ctx.scope(),
        &r.import_id,
        after,
        r.max_results.unwrap_or(DEFAULT_PAGE),
    )?;
    Ok(ListImportFailuresResponse {
        failures: page.items.iter().map(ImportFailureListItem::from).collect(),
        next_token: page.next.map(|n| tokens.num_token(n)),
    })
}

fn start_query(app: &App, ctx: &Ctx, r: StartQueryRequest) -> Result<StartQueryResponse, ApiError> {
    let Some(statement) = r.query_statement else {
        return Err(invalid("QueryStatement is required."));
    };
    if r.event_data_store_owner_account_id.is_some() {
        return Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            "EventDataStoreOwnerAccountId names a store shared through Lake Formation, which trailport does not have.",
        ));
    }
    let q = app.engine.start_query(StartQuery {
        scope: ctx.scope(),
        statement,
        delivery_uri: r.delivery_s3_uri,
        alias: r.query_alias,
        parameters: r.query_parameters.unwrap_or_default(),
        names: false,
    })?;
    Ok(StartQueryResponse { query_id: q.id })
}

/// The query a request names by `QueryId` (a `QueryAlias` names dashboard queries, which
/// trailport does not have).
fn query_id(r: &QueryIdRequest) -> Result<&str, ApiError> {
    match (&r.query_id, &r.query_alias) {
        (Some(id), _) => Ok(id),
        (None, Some(_)) => Err(ApiError::new(
            ErrorCode::UnsupportedOperation,
            "QueryAlias names queries of CloudTrail Lake dashboards, which trailport does not have.",
        )),
        (None, None) => Err(invalid("QueryId is required.")),
    }
}

fn get_query_results(
    app: &App,
    ctx: &Ctx,
    r: QueryIdRequest,
) -> Result<GetQueryResultsResponse, ApiError> {
    let id = query_id(&r)?;
    let tokens = Tokens::new("GetQueryResults", &[id], ErrorCode::InvalidNextToken);
    let after = tokens.num_cursor(r.next_token.as_deref())?.unwrap_or(0);
    let page = app.engine.query_results(
        &ctx.scope(),
        id,
        after,
        r.max_query_results.unwrap_or(MAX_QUERY_RESULTS),
    )?;
    let q = &page.query;
    let rows = page
        .rows
        .into_iter()
        .map(|cells| {
            q.columns
                .iter()
                .zip(cells)
                .map(|(name, value)| {
                    let mut m = serde_json::Map::new();
                    m.insert(name.clone(), Value::String(value));
                    m
                })
                .collect()
        })
        .collect::<Vec<_>>();
    Ok(GetQueryResultsResponse {
        query_status: query_status(q.status),
        query_statistics: QueryStatisticsOut {
            results_count: rows.len() as i64,
            total_results_count: q.stats.results_count,
            bytes_scanned: q.stats.bytes_scanned,
        },
        query_result_rows: rows,
        next_token: page.next.map(|n| tokens.num_token(n)),
        error_message: q.error_message.clone(),
    })
}

fn describe_query(
    app: &App,
    ctx: &Ctx,
    r: QueryIdRequest,
) -> Result<DescribeQueryResponse, ApiError> {
    let q = app.engine.describe_query(&ctx.scope(), query_id(&r)?)?;
    Ok(DescribeQueryResponse::from_record(&q))
}

fn list_queries(
    app: &App,
    ctx: &Ctx,
    r: ListQueriesRequest,
) -> Result<ListQueriesResponse, ApiError> {
    let start = r.start_time.map(|s| s.to_string());
    let end = r.end_time.map(|s| s.to_string());
    let filters = [
        r.event_data_store.as_str(),
        start.as_deref().unwrap_or(""),
        end.as_deref().unwrap_or(""),
        r.query_status.as_deref().unwrap_or(""),
    ];
    let tokens = Tokens::new("ListQueries", &filters, ErrorCode::InvalidNextToken);
    let before = match tokens.cursor(r.next_token.as_deref())? {
        None => None,
        Some(c) => {
            let (ms, id) = c.split_once('.').ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidNextToken, "The NextToken is not valid.")
            })?;
            let ms = i64::from_str_radix(ms, 16).map_err(|_| {
                ApiError::new(ErrorCode::InvalidNextToken, "The NextToken is not valid.")
            })?;
            Some((ms, id.to_string()))
        }
    };
    let page = app.engine.list_queries(&ListQueries {
        scope: ctx.scope(),
        eds: r.event_data_store,
        start_ms: r.start_time.map(millis),
        end_ms: r.end_time.map(millis),
        status: r.query_status.as_deref().and_then(parse_query_status),
        before,
        limit: r.max_results.unwrap_or(DEFAULT_PAGE),
    })?;
    Ok(ListQueriesResponse {
        queries: page
            .items
            .iter()
            .map(|q| QueryListItem {
                query_id: q.id.clone(),
                query_status: query_status(q.status),
                creation_time: seconds(q.created_ms),
            })
            .collect(),
        next_token: page
            .next
            .map(|(ms, id)| tokens.token(&format!("{ms:x}.{id}"))),
    })
}

fn cancel_query(app: &App, ctx: &Ctx, r: QueryIdRequest) -> Result<CancelQueryResponse, ApiError> {
    let q = app.engine.cancel_query(&ctx.scope(), query_id(&r)?)?;
    Ok(CancelQueryResponse {
        query_id: q.id,
        query_status: query_status(q.status),
    })
}
