//! CloudWatch Logs operations: decode the request, make one engine call, encode the answer.

use crate::cloudtrail::{decode, invalid, out};
use crate::error::{ApiError, ErrorCode};
use crate::logs_wire::*;
use crate::token::Tokens;
use crate::{App, Ctx};
use import_engine::{
    CreateLogTask, DescribeLogStreams, DescribeLogTasks, FilterLogEvents, GetLogEvents, LogCursor,
    LogPosition, StreamOrder, StreamSelection, MAX_PAGE_EVENTS,
};
use serde_json::Value;

/// The operations served; the model's others are `UnknownOperationException`.
pub const OPERATIONS: &[&str] = &[
    "CreateImportTask",
    "DescribeImportTasks",
    "DescribeImportTaskBatches",
    "CancelImportTask",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "GetLogEvents",
    "FilterLogEvents",
    "DeleteLogGroup",
];

/// Runs one Logs operation on an input the model already checked.
pub fn dispatch(app: &App, ctx: &Ctx, op: &str, input: Value) -> Result<Value, ApiError> {
    match op {
        "CreateImportTask" => out(create_task(app, ctx, decode(input)?)),
        "DescribeImportTasks" => out(describe_tasks(app, ctx, decode(input)?)),
        "DescribeImportTaskBatches" => out(describe_batches(app, ctx, decode(input)?)),
        "CancelImportTask" => out(cancel_task(app, ctx, decode(input)?)),
        "DescribeLogGroups" => out(describe_groups(app, ctx, decode(input)?)),
        "DescribeLogStreams" => out(describe_streams(app, ctx, decode(input)?)),
        "GetLogEvents" => out(get_events(app, ctx, decode(input)?)),
        "FilterLogEvents" => out(filter_events(app, ctx, decode(input)?)),
        "DeleteLogGroup" => out(delete_group(app, ctx, decode(input)?)),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("Operation {op} is not supported by this emulator."),
        )),
    }
}

fn tokens(op: &str, filters: &[&str]) -> Tokens {
    Tokens::new(op, filters, ErrorCode::InvalidParameter)
}

/// The one group a request names, by `logGroupName` or `logGroupIdentifier`.
fn one_group(name: Option<String>, identifier: Option<String>) -> Result<String, ApiError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(invalid(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (Some(g), None) | (None, Some(g)) => Ok(g),
        (None, None) => Err(invalid(
            "Either logGroupName or logGroupIdentifier must be specified.",
        )),
    }
}

/// A position in a token: timestamp and event number, as 32 hex digits.
fn position_text(p: LogPosition) -> String {
    format!("{:016x}{:016x}", p.0 as u64, p.1 as u64)
}

fn parse_position(s: &str) -> Option<LogPosition> {
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let t = u64::from_str_radix(&s[..16], 16).ok()? as i64;
    let n = u64::from_str_radix(&s[16..], 16).ok()? as i64;
    Some((t, n))
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

// ---- import tasks ----

fn create_task(
    app: &App,
    ctx: &Ctx,
    r: CreateImportTaskRequest,
) -> Result<CreateImportTaskResponse, ApiError> {
    let filter = r.import_filter.unwrap_or_default();
    let task = app
        .engine
        .create_log_task(CreateLogTask {
            scope: ctx.scope(),
            source_arn: r.import_source_arn,
            role_arn: r.import_role_arn,
            start_ms: filter.start_event_time,
            end_ms: filter.end_event_time,
        })
        .map_err(ApiError::logs)?;
    Ok((&task).into())
}

fn describe_tasks(
    app: &App,
    ctx: &Ctx,
    r: DescribeImportTasksRequest,
) -> Result<DescribeImportTasksResponse, ApiError> {
    let status = r
        .import_status
        .as_deref()
        .map(|s| parse_task_status(s).ok_or_else(|| invalid(format!("Unknown status {s}."))))
        .transpose()?;
    let tokens = tokens(
        "DescribeImportTasks",
        &[
            r.import_id.as_deref().unwrap_or(""),
            r.import_status.as_deref().unwrap_or(""),
            r.import_source_arn.as_deref().unwrap_or(""),
        ],
    );
    let page = app
        .engine
        .describe_log_tasks(&DescribeLogTasks {
            scope: ctx.scope(),
            id: r.import_id,
            status,
            source_arn: r.import_source_arn,
            after: tokens.num_cursor(r.next_token.as_deref())?,
            limit: r.limit.unwrap_or(50),
        })
        .map_err(ApiError::logs)?;
    Ok(DescribeImportTasksResponse {
        imports: page.items.iter().map(Into::into).collect(),
        next_token: page.next.map(|n| tokens.num_token(n)),
    })
}

fn describe_batches(
    app: &App,
    ctx: &Ctx,
    r: DescribeImportTaskBatchesRequest,
) -> Result<DescribeImportTaskBatchesResponse, ApiError> {
    let wanted = r.batch_import_status.unwrap_or_default();
    let statuses = wanted
        .iter()
        .map(|s| parse_task_status(s).ok_or_else(|| invalid(format!("Unknown status {s}."))))
        .collect::<Result<Vec<_>, _>>()?;
    let tokens = tokens(
        "DescribeImportTaskBatches",
        &[&r.import_id, &wanted.join(",")],
    );
    let (task, page) = app
        .engine
        .log_task_batches(
            &ctx.scope(),
            &r.import_id,
            &statuses,
            tokens.num_cursor(r.next_token.as_deref())?,
            r.limit.unwrap_or(10),
        )
        .map_err(ApiError::logs)?;
    Ok(DescribeImportTaskBatchesResponse {
        import_source_arn: task.source_arn,
        import_id: task.id,
        import_batches: page.items.iter().map(Into::into).collect(),
        next_token: page.next.map(|n| tokens.num_token(n)),
    })
}

fn cancel_task(
    app: &App,
    ctx: &Ctx,
    r: CancelImportTaskRequest,
) -> Result<CancelImportTaskResponse, ApiError> {
    let task = app
        .engine
        .cancel_log_task(&ctx.scope(), &r.import_id)
        .map_err(ApiError::logs)?;
    Ok((&task).into())
}

// ---- log groups ----

fn describe_groups(
    app: &App,
    ctx: &Ctx,
    r: DescribeLogGroupsRequest,
) -> Result<DescribeLogGroupsResponse, ApiError> {
    if r.log_group_name_prefix.is_some() && r.log_group_name_pattern.is_some() {
        return Err(invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let prefix = r.log_group_name_prefix.unwrap_or_default();
    let class = r.log_group_class.unwrap_or_default();
    let identifiers = r.log_group_identifiers.unwrap_or_default();
    let tokens = tokens(
        "DescribeLogGroups",
        &[
            &prefix,
            r.log_group_name_pattern.as_deref().unwrap_or(""),
            &class,
            &identifiers.join(","),
        ],
    );
    let after = tokens.cursor(r.next_token.as_deref())?;
    let page = app
        .engine
        .describe_log_groups(
            &ctx.scope(),
            &import_engine::DescribeLogGroups {
                prefix,
                pattern: r.log_group_name_pattern,
                class: (!class.is_empty()).then_some(class),
                identifiers,
                after: after.map(str::to_string),
                limit: r.limit.unwrap_or(50),
            },
        )
        .map_err(ApiError::logs)?;
    Ok(DescribeLogGroupsResponse {
        log_groups: page.items.iter().map(Into::into).collect(),
        next_token: page.next.map(|n| tokens.token(&n)),
    })
}

fn describe_streams(
    app: &App,
    ctx: &Ctx,
    r: DescribeLogStreamsRequest,
) -> Result<DescribeLogStreamsResponse, ApiError> {
    let group = one_group(r.log_group_name, r.log_group_identifier)?;
    let order = match r.order_by.as_deref() {
        None | Some("LogStreamName") => StreamOrder::Name,
        Some("LastEventTime") => StreamOrder::LastEventTime,
        Some(o) => return Err(invalid(format!("Unknown orderBy {o}."))),
    };
    let prefix = r.log_stream_name_prefix.unwrap_or_default();
    let descending = r.descending.unwrap_or(false);
    let tokens = tokens(
        "DescribeLogStreams",
        &[
            &group,
            &prefix,
            r.order_by.as_deref().unwrap_or(""),
            if descending { "d" } else { "a" },
        ],
    );
    let (group_row, page) = app
        .engine
        .describe_log_streams(
            &ctx.scope(),
            &group,
            &DescribeLogStreams {
                prefix,
                order,
                descending,
                after: tokens.num_cursor(r.next_token.as_deref())?,
                limit: r.limit.unwrap_or(50),
            },
        )
        .map_err(ApiError::logs)?;
    Ok(DescribeLogStreamsResponse {
        log_streams: page
            .items
            .iter()
            .map(|s| LogStreamW::new(&group_row, s))
            .collect(),
        next_token: page.next.map(|n| tokens.num_token(n)),
    })
}

fn get_events(
    app: &App,
    ctx: &Ctx,
    r: GetLogEventsRequest,
) -> Result<GetLogEventsResponse, ApiError> {
    let group = one_group(r.log_group_name, r.log_group_identifier)?;
    let tokens = tokens(
        "GetLogEvents",
        &[
            &group,
            &r.log_stream_name,
            &opt(r.start_time),
            &opt(r.end_time),
        ],
    );
    let cursor = match r.next_token.as_deref() {
        None => None,
        Some(t) => {
            let bad = || invalid("The specified nextToken is not valid.");
            let (forward, rest) = match t.get(..2) {
                Some("f/") => (true, &t[2..]),
                Some("b/") => (false, &t[2..]),
                _ => return Err(bad()),
            };
            let p = tokens
                .cursor(Some(rest))?
                .and_then(parse_position)
                .ok_or_else(bad)?;
            Some(if forward {
                LogCursor::Forward(p)
            } else {
                LogCursor::Backward(p)
            })
        }
    };
    let page = app
        .engine
        .get_log_events(
            &ctx.scope(),
            &GetLogEvents {
                group,
                stream: r.log_stream_name,
                start_ms: r.start_time,
                end_ms: r.end_time,
                limit: r.limit.unwrap_or(MAX_PAGE_EVENTS),
                from_head: r.start_from_head.unwrap_or(false),
                cursor,
            },
        )
        .map_err(ApiError::logs)?;
    let token = |c: LogCursor| match c {
        LogCursor::Forward(p) => format!("f/{}", tokens.token(&position_text(p))),
        LogCursor::Backward(p) => format!("b/{}", tokens.token(&position_text(p))),
    };
    Ok(GetLogEventsResponse {
        events: page.events.iter().map(Into::into).collect(),
        next_forward_token: token(page.forward),
        next_backward_token: token(page.backward),
    })
}

fn filter_events(
    app: &App,
    ctx: &Ctx,
    r: FilterLogEventsRequest,
) -> Result<FilterLogEventsResponse, ApiError> {
    let group = one_group(r.log_group_name, r.log_group_identifier)?;
    let streams = match (r.log_stream_names, r.log_stream_name_prefix) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.",
            ))
        }
        (Some(names), None) => StreamSelection::Names(names),
        (None, Some(prefix)) => StreamSelection::Prefix(prefix),
        (None, None) => StreamSelection::All,
    };
    let pattern = r.filter_pattern.unwrap_or_default();
    let selection = match &streams {
        StreamSelection::All => String::new(),
        StreamSelection::Names(n) => format!("n:{}", n.join("\u{0}")),
        StreamSelection::Prefix(p) => format!("p:{p}"),
    };
    let tokens = tokens(
        "FilterLogEvents",
        &[
            &group,
            &selection,
            &opt(r.start_time),
            &opt(r.end_time),
            &pattern,
        ],
    );
    let after = match tokens.cursor(r.next_token.as_deref())? {
        None => None,
        Some(c) => Some(
            parse_position(c).ok_or_else(|| invalid("The specified nextToken is not valid."))?,
        ),
    };
    let page = app
        .engine
        .filter_log_events(
            &ctx.scope(),
            &FilterLogEvents {
                group,
                streams,
                start_ms: r.start_time,
                end_ms: r.end_time,
                pattern,
                limit: r.limit.unwrap_or(MAX_PAGE_EVENTS),
                after,
            },
        )
        .map_err(ApiError::logs)?;
    Ok(FilterLogEventsResponse {
        events: page.events.iter().map(Into::into).collect(),
        next_token: page.next.map(|p| tokens.token(&position_text(p))),
    })
}

fn delete_group(
    app: &App,
    ctx: &Ctx,
    r: DeleteLogGroupRequest,
) -> Result<crate::wire::Empty, ApiError> {
    app.engine
        .delete_log_group(&ctx.scope(), &r.log_group_name)
        .map_err(ApiError::logs)?;
    Ok(crate::wire::Empty {})
}
