//! CloudTrail operations: decode, check, call the engine, encode.

use crate::error::{ApiError, ErrorCode};
use crate::token::Page;
use crate::wire::*;
use crate::{App, Ctx};
use import_engine::{
    EventDataStore, EventDataStoreStatus, ImportFilter, ImportRecord, ImportSpec, ImportStatus,
    Location, NewEventDataStore, RunOptions,
};
use regex::Regex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::LazyLock;

/// Event data stores per Region (any lifecycle stage), as the CloudTrail quota.
const MAX_EVENT_DATA_STORES: usize = 10;

static EDS_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):eventdatastore/([A-Za-z0-9-]+)$")
        .expect("arn regex")
});
static EDS_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9-]+$").expect("id regex"));

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
        "StartImport" => out(start_import(app, ctx, decode(input)?)),
        "GetImport" => out(get_import(app, ctx, decode(input)?)),
        "StopImport" => out(stop_import(app, ctx, decode(input)?)),
        "ListImports" => out(list_imports(app, ctx, decode(input)?)),
        "ListImportFailures" => out(list_failures(app, ctx, decode(input)?)),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("Operation {op} is not supported by this emulator."),
        )),
    }
}

fn decode<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input)
        .map_err(|e| ApiError::new(ErrorCode::Serialization, e.to_string()))
}

fn out<T: Serialize>(r: Result<T, ApiError>) -> Result<Value, ApiError> {
    let v = r?;
    serde_json::to_value(v).map_err(|e| ApiError::new(ErrorCode::InternalFailure, e.to_string()))
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, msg)
}

// ---- event data stores ----

fn arn_prefix(ctx: &Ctx) -> String {
    format!(
        "arn:aws:cloudtrail:{}:{}:eventdatastore/",
        ctx.region, ctx.account
    )
}

fn stores_in_region(app: &App, ctx: &Ctx) -> Result<Vec<EventDataStore>, ApiError> {
    let prefix = arn_prefix(ctx);
    Ok(app
        .engine
        .store()
        .event_data_stores()
        .map_err(import_engine::EngineError::from)?
        .into_iter()
        .filter(|e| e.arn.starts_with(&prefix))
        .collect())
}

/// Finds a store by ARN or ID, as AWS does: a malformed ARN, or one of another account, is
/// `EventDataStoreARNInvalidException`; a well-formed one not in this Region is not found.
fn resolve_eds(app: &App, ctx: &Ctx, key: &str) -> Result<EventDataStore, ApiError> {
    let arn_invalid = || {
        ApiError::new(
            ErrorCode::EventDataStoreArnInvalid,
            format!("The specified event data store ARN is not valid or does not map to an event data store in your account: {key}"),
        )
    };
    if let Some(c) = EDS_ARN.captures(key) {
        if c[2] != ctx.account {
            return Err(arn_invalid());
        }
    } else if key.starts_with("arn:") || !EDS_ID.is_match(key) {
        return Err(arn_invalid());
    }
    let found = app
        .engine
        .store()
        .event_data_store(key)
        .map_err(import_engine::EngineError::from)?;
    match found {
        Some(eds) if (eds.arn == key || eds.id == key) && eds.arn.starts_with(&arn_prefix(ctx)) => {
            Ok(eds)
        }
        _ => Err(ApiError::new(
            ErrorCode::EventDataStoreNotFound,
            format!("The specified event data store was not found: {key}"),
        )),
    }
}

/// `EventDataStoreHasOngoingImportException` when an import into `eds` is still running.
fn refuse_if_importing(app: &App, eds: &EventDataStore) -> Result<(), ApiError> {
    let imports = app
        .engine
        .store()
        .imports(&ImportFilter {
            destination: Some(eds.arn.clone()),
            ..Default::default()
        })
        .map_err(import_engine::EngineError::from)?;
    if imports.iter().any(|i| i.status.is_ongoing()) {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreHasOngoingImport,
            format!(
                "The event data store {} has an import in progress.",
                eds.arn
            ),
        ));
    }
    Ok(())
}

fn default_selectors() -> Value {
    json!([{"Name": "Default management events",
            "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}])
}

fn check_retention(billing: &str, days: i64) -> Result<(), ApiError> {
    if billing == "FIXED_RETENTION_PRICING" && days > 2557 {
        return Err(invalid(format!(
            "RetentionPeriod {days} is not valid with FIXED_RETENTION_PRICING: the maximum is 2557 days."
        )));
    }
    Ok(())
}

fn create_eds(
    app: &App,
    ctx: &Ctx,
    r: CreateEventDataStoreRequest,
) -> Result<EventDataStoreOut, ApiError> {
    let existing = stores_in_region(app, ctx)?;
    if existing.iter().any(|e| e.name == r.name) {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreAlreadyExists,
            format!(
                "An event data store with the name {} already exists.",
                r.name
            ),
        ));
    }
    if existing.len() >= MAX_EVENT_DATA_STORES {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreMaxLimitExceeded,
            format!(
                "Your account has the maximum of {MAX_EVENT_DATA_STORES} event data stores in {}.",
                ctx.region
            ),
        ));
    }
    let billing = r
        .billing_mode
        .unwrap_or_else(|| "EXTENDABLE_RETENTION_PRICING".into());
    let fixed = billing == "FIXED_RETENTION_PRICING";
    let retention = r.retention_period.unwrap_or(if fixed { 2557 } else { 366 });
    check_retention(&billing, retention)?;
    let details = EdsDetails {
        advanced_event_selectors: Some(
            r.advanced_event_selectors.unwrap_or_else(default_selectors),
        ),
        kms_key_id: r.kms_key_id,
        tags_list: r.tags_list,
    };
    let status = if r.start_ingestion.unwrap_or(true) {
        EventDataStoreStatus::Enabled
    } else {
        EventDataStoreStatus::StoppedIngestion
    };
    let new = NewEventDataStore {
        name: r.name,
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        status,
        retention_days: retention,
        termination_protection: r.termination_protection_enabled.unwrap_or(true),
        multi_region: r.multi_region_enabled.unwrap_or(true),
        organization: r.organization_enabled.unwrap_or(false),
        billing_mode: billing,
        details: serde_json::to_string(&details).unwrap_or_else(|_| "{}".into()),
    };
    let eds = app
        .engine
        .store()
        .create_event_data_store(&new)
        .map_err(import_engine::EngineError::from)?;
    // The create response shows the short-lived CREATED status, as AWS's does.
    Ok(EventDataStoreOut::from_store(&eds, Some("CREATED")))
}

fn get_eds(app: &App, ctx: &Ctx, r: EventDataStoreRequest) -> Result<EventDataStoreOut, ApiError> {
    let eds = resolve_eds(app, ctx, &r.event_data_store)?;
    Ok(EventDataStoreOut::from_store(&eds, None))
}

fn list_eds(
    app: &App,
    ctx: &Ctx,
    r: ListEventDataStoresRequest,
) -> Result<ListEventDataStoresResponse, ApiError> {
    let all = stores_in_region(app, ctx)?;
    let page = Page::open(
        "ListEventDataStores",
        &[],
        r.next_token.as_deref(),
        r.max_results,
        1000,
    )?;
    let (items, next_token) = page.cut(&all);
    Ok(ListEventDataStoresResponse {
        event_data_stores: items
            .iter()
            .map(|e| EventDataStoreListItem {
                event_data_store_arn: e.arn.clone(),
                name: e.name.clone(),
            })
            .collect(),
        next_token,
    })
}

fn update_eds(
    app: &App,
    ctx: &Ctx,
    r: UpdateEventDataStoreRequest,
) -> Result<EventDataStoreOut, ApiError> {
    let mut eds = resolve_eds(app, ctx, &r.event_data_store)?;
    if eds.status == EventDataStoreStatus::PendingDeletion {
        return Err(ApiError::new(
            ErrorCode::InactiveEventDataStore,
            format!("The event data store {} is inactive.", eds.arn),
        ));
    }
    refuse_if_importing(app, &eds)?;
    if let Some(name) = r.name {
        if name != eds.name && stores_in_region(app, ctx)?.iter().any(|e| e.name == name) {
            return Err(ApiError::new(
                ErrorCode::EventDataStoreAlreadyExists,
                format!("An event data store with the name {name} already exists."),
            ));
        }
        eds.name = name;
    }
    if let Some(b) = r.billing_mode {
        if eds.billing_mode == "FIXED_RETENTION_PRICING" && b == "EXTENDABLE_RETENTION_PRICING" {
            eds.billing_mode = b;
        } else if b != eds.billing_mode {
            return Err(invalid("The billing mode can only change from FIXED_RETENTION_PRICING to EXTENDABLE_RETENTION_PRICING."));
        }
    }
    if let Some(days) = r.retention_period {
        eds.retention_days = days;
    }
    check_retention(&eds.billing_mode, eds.retention_days)?;
    if let Some(v) = r.multi_region_enabled {
        eds.multi_region = v;
    }
    if let Some(v) = r.organization_enabled {
        eds.organization = v;
    }
    if let Some(v) = r.termination_protection_enabled {
        eds.termination_protection = v;
    }
    let mut details = EdsDetails::of(&eds);
    if let Some(v) = r.advanced_event_selectors {
        details.advanced_event_selectors = Some(v);
    }
    if let Some(k) = r.kms_key_id {
        details.kms_key_id = Some(k);
    }
    eds.details = serde_json::to_string(&details).unwrap_or_else(|_| "{}".into());
    let store = app.engine.store();
    store
        .update_event_data_store(&eds)
        .map_err(import_engine::EngineError::from)?;
    let eds = store
        .event_data_store(&eds.id)
        .map_err(import_engine::EngineError::from)?
        .unwrap_or(eds);
    Ok(EventDataStoreOut::from_store(&eds, None))
}

fn delete_eds(app: &App, ctx: &Ctx, r: EventDataStoreRequest) -> Result<Value, ApiError> {
    let eds = resolve_eds(app, ctx, &r.event_data_store)?;
    if eds.status == EventDataStoreStatus::PendingDeletion {
        return Err(ApiError::new(
            ErrorCode::InactiveEventDataStore,
            format!(
                "The event data store {} is already pending deletion.",
                eds.arn
            ),
        ));
    }
    if eds.termination_protection {
        return Err(ApiError::new(
            ErrorCode::EventDataStoreTerminationProtected,
            format!("The event data store {} has termination protection enabled; disable it with UpdateEventDataStore first.", eds.arn),
        ));
    }
    refuse_if_importing(app, &eds)?;
    set_status(app, &eds, EventDataStoreStatus::PendingDeletion)?;
    Ok(json!({}))
}

fn restore_eds(
    app: &App,
    ctx: &Ctx,
    r: EventDataStoreRequest,
) -> Result<EventDataStoreOut, ApiError> {
    let eds = resolve_eds(app, ctx, &r.event_data_store)?;
    if eds.status != EventDataStoreStatus::PendingDeletion {
        return Err(ApiError::new(
            ErrorCode::InvalidEventDataStoreStatus,
            format!(
                "The event data store {} is {}; only a store pending deletion can be restored.",
                eds.arn,
                eds.status.as_str()
            ),
        ));
    }
    set_status(app, &eds, EventDataStoreStatus::Enabled)?;
    get_eds(
        app,
        ctx,
        EventDataStoreRequest {
            event_data_store: eds.arn,
        },
    )
}

fn ingestion(
    app: &App,
    ctx: &Ctx,
    r: EventDataStoreRequest,
    start: bool,
) -> Result<Value, ApiError> {
    let eds = resolve_eds(app, ctx, &r.event_data_store)?;
    let (from, to) = if start {
        (
            EventDataStoreStatus::StoppedIngestion,
            EventDataStoreStatus::Enabled,
        )
    } else {
        (
            EventDataStoreStatus::Enabled,
            EventDataStoreStatus::StoppedIngestion,
        )
    };
    if eds.status != from {
        return Err(ApiError::new(
            ErrorCode::InvalidEventDataStoreStatus,
            format!(
                "The event data store {} is {}; it must be {} for this operation.",
                eds.arn,
                eds.status.as_str(),
                from.as_str()
            ),
        ));
    }
    set_status(app, &eds, to)?;
    Ok(json!({}))
}

fn set_status(
    app: &App,
    eds: &EventDataStore,
    status: EventDataStoreStatus,
) -> Result<(), ApiError> {
    app.engine
        .store()
        .set_event_data_store_status(&eds.id, status)
        .map_err(import_engine::EngineError::from)?;
    Ok(())
}

// ---- imports ----

/// An import of this account and Region, or `ImportNotFoundException`.
fn own_import(app: &App, ctx: &Ctx, id: &str) -> Result<ImportRecord, ApiError> {
    let import = app.engine.get_import(id)?;
    if import.account != ctx.account || import.region != ctx.region {
        return Err(import_engine::EngineError::ImportNotFound(id.to_string()).into());
    }
    Ok(import)
}

/// Whether the store takes CloudTrail events: its selectors' `eventCategory` must allow
/// management, data or network activity events.
fn takes_trail_events(eds: &EventDataStore) -> bool {
    let Some(Value::Array(selectors)) = EdsDetails::of(eds).advanced_event_selectors else {
        return true;
    };
    let categories: Vec<&str> = selectors
        .iter()
        .flat_map(|s| s["FieldSelectors"].as_array().into_iter().flatten())
        .filter(|f| f["Field"] == "eventCategory")
        .flat_map(|f| f["Equals"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    categories.is_empty()
        || categories
            .iter()
            .any(|c| ["Management", "Data", "NetworkActivity"].contains(c))
}

fn run_options(app: &App, eds_retention_days: Option<i64>) -> RunOptions {
    RunOptions {
        retention_days: eds_retention_days,
        pace_per_file: app.pace_per_file,
        ..Default::default()
    }
}

fn start_import(app: &App, ctx: &Ctx, r: StartImportRequest) -> Result<ImportOut, ApiError> {
    if let Some(id) = r.import_id {
        // A retry: only the ImportId counts; the rest of the request is ignored.
        let import = own_import(app, ctx, &id)?;
        let retention = import
            .eds_num
            .and_then(|_| {
                app.engine
                    .store()
                    .event_data_store(&import.destination)
                    .ok()
                    .flatten()
            })
            .map(|e| e.retention_days);
        let record = app.engine.retry_import(&id)?;
        app.engine
            .spawn_run(&id, app.resolver.clone(), run_options(app, retention));
        return Ok(ImportOut::from_record(&record, false));
    }
    let (Some(destinations), Some(source)) = (r.destinations, r.import_source) else {
        return Err(invalid("Destinations and ImportSource are required to start a new import; ImportId alone retries one."));
    };
    let s3 = source
        .s3
        .ok_or_else(|| invalid("ImportSource.S3 is required."))?;
    let eds = resolve_eds(app, ctx, &destinations[0])?;
    match eds.status {
        EventDataStoreStatus::PendingDeletion => {
            return Err(ApiError::new(
                ErrorCode::InactiveEventDataStore,
                format!("The event data store {} is inactive.", eds.arn),
            ));
        }
        EventDataStoreStatus::Enabled | EventDataStoreStatus::StoppedIngestion => {}
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidEventDataStoreStatus,
                format!(
                    "The event data store {} is {}, which does not accept imports.",
                    eds.arn,
                    other.as_str()
                ),
            ));
        }
    }
    if !takes_trail_events(&eds) {
        return Err(ApiError::new(
            ErrorCode::InvalidEventDataStoreCategory,
            format!(
                "The event data store {} does not collect CloudTrail events.",
                eds.arn
            ),
        ));
    }
    let location = Location::parse(&s3.s3_location_uri)
        .map_err(|e| ApiError::new(ErrorCode::InvalidImportSource, e.to_string()))?;
    app.resolver
        .resolve(&location.bucket, &s3.s3_bucket_region)?;
    let (start, end) = (r.start_event_time.map(millis), r.end_event_time.map(millis));
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(invalid(
                "StartEventTime must not be later than EndEventTime.",
            ));
        }
    }
    let to_time = |ms: Option<i64>| ms.and_then(chrono_from_ms);
    let record = app.engine.start_import(&ImportSpec {
        destination: eds.arn.clone(),
        source_uri: s3.s3_location_uri,
        bucket_region: s3.s3_bucket_region,
        role_arn: s3.s3_bucket_access_role_arn,
        start: to_time(start),
        end: to_time(end),
        account: ctx.account.clone(),
        region: ctx.region.clone(),
    })?;
    app.engine.spawn_run(
        &record.id,
        app.resolver.clone(),
        run_options(app, Some(eds.retention_days)),
    );
    Ok(ImportOut::from_record(&record, false))
}

fn chrono_from_ms(ms: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms)
}

fn get_import(app: &App, ctx: &Ctx, r: ImportIdRequest) -> Result<ImportOut, ApiError> {
    Ok(ImportOut::from_record(
        &own_import(app, ctx, &r.import_id)?,
        true,
    ))
}

fn stop_import(app: &App, ctx: &Ctx, r: ImportIdRequest) -> Result<ImportOut, ApiError> {
    own_import(app, ctx, &r.import_id)?;
    // Stopping an import that already ended returns it unchanged.
    Ok(ImportOut::from_record(
        &app.engine.stop_import(&r.import_id)?,
        true,
    ))
}

fn list_imports(
    app: &App,
    ctx: &Ctx,
    r: ListImportsRequest,
) -> Result<ListImportsResponse, ApiError> {
    let destination = match &r.destination {
        Some(d) if EDS_ARN.is_match(d) || (!d.starts_with("arn:") && EDS_ID.is_match(d)) => {
            Some(d.clone())
        }
        Some(d) => {
            return Err(ApiError::new(
                ErrorCode::EventDataStoreArnInvalid,
                format!("The specified event data store ARN is not valid: {d}"),
            ))
        }
        None => None,
    };
    let filter = ImportFilter {
        status: r.import_status.as_deref().and_then(ImportStatus::parse),
        account: Some(ctx.account.clone()),
        region: Some(ctx.region.clone()),
        ..Default::default()
    };
    let mut all = app
        .engine
        .store()
        .imports(&filter)
        .map_err(import_engine::EngineError::from)?;
    if let Some(d) = &destination {
        all.retain(|i| &i.destination == d || i.destination.ends_with(&format!("/{d}")));
    }
    // Newest first.
    all.reverse();
    let fp = [
        r.destination.as_deref().unwrap_or(""),
        r.import_status.as_deref().unwrap_or(""),
    ];
    let page = Page::open(
        "ListImports",
        &fp,
        r.next_token.as_deref(),
        r.max_results,
        1000,
    )?;
    let (items, next_token) = page.cut(&all);
    Ok(ListImportsResponse {
        imports: items.iter().map(ImportsListItem::from).collect(),
        next_token,
    })
}

fn list_failures(
    app: &App,
    ctx: &Ctx,
    r: ListImportFailuresRequest,
) -> Result<ListImportFailuresResponse, ApiError> {
    let page = Page::open(
        "ListImportFailures",
        &[&r.import_id],
        r.next_token.as_deref(),
        r.max_results,
        1000,
    )?;
    // ImportNotFoundException is not declared for this operation: an unknown import has none.
    let failures = match own_import(app, ctx, &r.import_id) {
        Ok(_) => app
            .engine
            .store()
            .failures(&r.import_id, 0, usize::MAX >> 1)
            .map_err(import_engine::EngineError::from)?,
        Err(_) => Vec::new(),
    };
    let (items, next_token) = page.cut(&failures);
    Ok(ListImportFailuresResponse {
        failures: items.iter().map(ImportFailureListItem::from).collect(),
        next_token,
    })
}
