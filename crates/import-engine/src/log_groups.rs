//! Reading what Logs import tasks wrote: DescribeLogGroups, DescribeLogStreams, GetLogEvents
//! (forward and backward from a position), FilterLogEvents (filter patterns, scanned in time
//! order a chunk at a time) and DeleteLogGroup.

use crate::filter_pattern::FilterPattern;
use crate::{Engine, EngineError, Page, Scope};
use event_store::{
    LogEventRange, LogEventRow, LogEventScope, LogGroup, LogPosition, LogStream, StreamOrder,
    FIRST_POSITION, LAST_POSITION,
};
use rayon::prelude::*;

/// At most this many bytes of messages in one page of events (GetLogEvents, FilterLogEvents).
pub const MAX_PAGE_BYTES: usize = 1 << 20;
/// At most this many events in one page.
pub const MAX_PAGE_EVENTS: usize = 10_000;
/// A FilterLogEvents page looks at no more than this many events; if it stops there, the
/// next page goes on from where it stopped.
pub const MAX_SCANNED_PER_PAGE: usize = 200_000;
/// Events read from the store at a time while filtering.
const SCAN_CHUNK: usize = 2_000;
/// Bytes of messages read from the store at a time while filtering (at least one event).
const SCAN_CHUNK_BYTES: usize = 16 << 20;

/// `DescribeLogGroups`: filters that all hold.
#[derive(Debug, Clone, Default)]
pub struct DescribeLogGroups {
    pub prefix: String,
    /// A part of the name, ASCII case ignored.
    pub pattern: Option<String>,
    pub class: Option<String>,
    /// Names or ARNs; any group when empty.
    pub identifiers: Vec<String>,
    /// The name of the last group of the previous page.
    pub after: Option<String>,
    pub limit: usize,
}

/// `DescribeLogStreams`.
#[derive(Debug, Clone)]
pub struct DescribeLogStreams {
    pub prefix: String,
    pub order: StreamOrder,
    pub descending: bool,
    /// The number of the last stream of the previous page.
    pub after: Option<i64>,
    pub limit: usize,
}

/// Where GetLogEvents goes on from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCursor {
    /// The events after this position, oldest first.
    Forward(LogPosition),
    /// The events before this position, the newest of them.
    Backward(LogPosition),
}

/// `GetLogEvents`.
#[derive(Debug, Clone)]
pub struct GetLogEvents {
    /// The group's name or ARN.
    pub group: String,
    pub stream: String,
    /// Inclusive.
    pub start_ms: Option<i64>,
    /// Exclusive.
    pub end_ms: Option<i64>,
    pub limit: usize,
    /// Without a cursor: the oldest events first, else the newest.
    pub from_head: bool,
    pub cursor: Option<LogCursor>,
}

/// A page of GetLogEvents: events oldest first, and where to go on either way. At the end, the
/// cursor given comes back unchanged.
#[derive(Debug, Clone)]
pub struct LogEventsPage {
    pub events: Vec<LogEventRow>,
    pub forward: LogCursor,
    pub backward: LogCursor,
}

/// Which streams FilterLogEvents reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSelection {
    All,
    Names(Vec<String>),
    Prefix(String),
}

/// `FilterLogEvents`.
#[derive(Debug, Clone)]
pub struct FilterLogEvents {
    /// The group's name or ARN.
    pub group: String,
    pub streams: StreamSelection,
    /// Both inclusive.
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub pattern: String,
    pub limit: usize,
    /// Where the previous page stopped.
    pub after: Option<LogPosition>,
}

/// A page of FilterLogEvents: matching events in time order, and where the next page starts
/// (none at the end).
#[derive(Debug, Clone)]
pub struct FilterPage {
    pub events: Vec<LogEventRow>,
    pub next: Option<LogPosition>,
    /// Events looked at for this page.
    pub scanned: usize,
}

fn position(e: &LogEventRow) -> LogPosition {
    (e.timestamp_ms, e.num)
}

impl Engine {
    /// A group of the scope by name, or by ARN (`arn:…:log-group:NAME`, with or without `:*`).
    pub fn log_group(&self, scope: &Scope, name_or_arn: &str) -> Result<LogGroup, EngineError> {
        let name = match name_or_arn.strip_prefix("arn:") {
            None => name_or_arn,
            Some(_) => {
                let bare = name_or_arn.strip_suffix(":*").unwrap_or(name_or_arn);
                let prefix = format!(
                    "arn:{}:logs:{}:{}:log-group:",
                    scope.partition(),
                    scope.region,
                    scope.account
                );
                bare.strip_prefix(&prefix)
                    .ok_or_else(|| EngineError::LogGroupNotFound(name_or_arn.to_string()))?
            }
        };
        self.store()
            .log_group(&scope.account, &scope.region, name)?
            .ok_or_else(|| EngineError::LogGroupNotFound(name_or_arn.to_string()))
    }

    /// Groups of the scope, in byte order of their names, after the name `r.after`.
    pub fn describe_log_groups(
        &self,
        scope: &Scope,
        r: &DescribeLogGroups,
    ) -> Result<Page<LogGroup, String>, EngineError> {
        let all = self.store().log_groups(
            &scope.account,
            &scope.region,
            &r.prefix,
            r.pattern.as_deref(),
            r.after.as_deref(),
            usize::MAX,
        )?;
        let wanted = |g: &LogGroup| {
            r.class.as_ref().is_none_or(|c| *c == g.class)
                && (r.identifiers.is_empty()
                    || r.identifiers
                        .iter()
                        .any(|i| *i == g.name || *i == g.arn || *i == format!("{}:*", g.arn)))
        };
        let mut items: Vec<LogGroup> = all
            .into_iter()
            .filter(wanted)
            .take(r.limit.saturating_add(1))
            .collect();
        let more = items.len() > r.limit;
        items.truncate(r.limit);
        let next = more.then(|| items.last().map(|g| g.name.clone())).flatten();
        Ok(Page { items, next })
    }

    /// Streams of a group (with the group) by name, or by last event time (not with a prefix,
    /// as AWS).
    pub fn describe_log_streams(
        &self,
        scope: &Scope,
        group: &str,
        r: &DescribeLogStreams,
    ) -> Result<(LogGroup, Page<LogStream, i64>), EngineError> {
        if r.order == StreamOrder::LastEventTime && !r.prefix.is_empty() {
            return Err(EngineError::InvalidParameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
            ));
        }
        let group = self.log_group(scope, group)?;
        let store = self.store();
        let after = match r.after {
            Some(n) => store.log_stream_by_num(n)?,
            None => None,
        };
        let mut items = store.log_streams(
            group.num,
            &r.prefix,
            r.order,
            r.descending,
            after.as_ref(),
            r.limit.saturating_add(1),
        )?;
        let more = items.len() > r.limit;
        items.truncate(r.limit);
        let next = more.then(|| items.last().map(|s| s.num)).flatten();
        drop(store);
        Ok((group, Page { items, next }))
    }

    /// One page of a stream's events, oldest first: from the head or the tail, or on from a
    /// cursor either way; at most `limit` events and [`MAX_PAGE_BYTES`] of messages.
    pub fn get_log_events(
        &self,
        scope: &Scope,
        r: &GetLogEvents,
    ) -> Result<LogEventsPage, EngineError> {
        let group = self.log_group(scope, &r.group)?;
        let stream = self
            .store()
            .log_stream(group.num, &r.stream)?
            .ok_or_else(|| EngineError::LogStreamNotFound(r.stream.clone()))?;
        let lower = r.start_ms.map_or(FIRST_POSITION, |t| (t, i64::MIN));
        let upper = r.end_ms.map_or(LAST_POSITION, |t| (t, i64::MIN));
        let (after, before, descending) = match r.cursor {
            None => (lower, upper, !r.from_head),
            Some(LogCursor::Forward(p)) => (p.max(lower), upper, false),
            Some(LogCursor::Backward(p)) => (lower, p.min(upper), true),
        };
        let range = LogEventRange {
            scope: LogEventScope::Stream(stream.num),
            after,
            before,
        };
        let mut events = self.store().log_events(
            &range,
            descending,
            r.limit.min(MAX_PAGE_EVENTS),
            MAX_PAGE_BYTES,
        )?;
        if descending {
            events.reverse();
        }
        let (forward, backward) = match (events.first(), events.last()) {
            (Some(first), Some(last)) => (
                LogCursor::Forward(position(last)),
                LogCursor::Backward(position(first)),
            ),
            _ => match r.cursor {
                Some(LogCursor::Forward(p)) => (LogCursor::Forward(p), LogCursor::Backward(p)),
                Some(LogCursor::Backward(p)) => (LogCursor::Forward(p), LogCursor::Backward(p)),
                None => (LogCursor::Forward(lower), LogCursor::Backward(lower)),
            },
        };
        Ok(LogEventsPage {
            events,
            forward,
            backward,
        })
    }

    /// One page of the group's events that match a filter pattern, streams interleaved in time
    /// order: at most `limit` events and [`MAX_PAGE_BYTES`] of messages, after looking at no
    /// more than [`MAX_SCANNED_PER_PAGE`] events. Patterns are matched on the rayon pool, a
    /// chunk of events at a time, without holding the store.
    pub fn filter_log_events(
        &self,
        scope: &Scope,
        r: &FilterLogEvents,
    ) -> Result<FilterPage, EngineError> {
        let pattern =
            FilterPattern::parse(&r.pattern).map_err(|e| EngineError::InvalidParameter(e.0))?;
        let group = self.log_group(scope, &r.group)?;
        if self.config.strict_log_class && group.class == crate::IMPORTED_LOG_GROUP_CLASS {
            return Err(EngineError::LogClassNotSupported(group.name));
        }
        let empty = FilterPage {
            events: Vec::new(),
            next: None,
            scanned: 0,
        };
        let streams = match &r.streams {
            StreamSelection::All => None,
            StreamSelection::Names(names) => {
                let store = self.store();
                let mut nums = Vec::new();
                for name in names {
                    if let Some(s) = store.log_stream(group.num, name)? {
                        nums.push(s.num);
                    }
                }
                Some(nums)
            }
            StreamSelection::Prefix(prefix) => Some(
                self.store()
                    .log_streams(
                        group.num,
                        prefix,
                        StreamOrder::Name,
                        false,
                        None,
                        usize::MAX,
                    )?
                    .into_iter()
                    .map(|s| s.num)
                    .collect(),
            ),
        };
        let scope_of_events = match streams {
            None => LogEventScope::Group(group.num),
            Some(nums) if nums.is_empty() => return Ok(empty),
            Some(nums) => LogEventScope::Streams(group.num, nums),
        };
        let lower = r.start_ms.map_or(FIRST_POSITION, |t| (t, i64::MIN));
        let mut at = r.after.map_or(lower, |p| p.max(lower));
        let before = r.end_ms.map_or(LAST_POSITION, |t| (t, i64::MAX));
        let limit = r.limit.min(MAX_PAGE_EVENTS);
        let mut page = empty;
        let mut bytes = 0usize;
        loop {
            let range = LogEventRange {
                scope: scope_of_events.clone(),
                after: at,
                before,
            };
            let chunk = self
                .store()
                .log_events(&range, false, SCAN_CHUNK, SCAN_CHUNK_BYTES)?;
            if chunk.is_empty() {
                page.next = None;
                return Ok(page);
            }
            let matched: Vec<bool> = chunk
                .par_iter()
                .map(|e| pattern.matches(&e.message))
                .collect();
            for (event, hit) in chunk.into_iter().zip(matched) {
                if hit {
                    if !page.events.is_empty() && bytes + event.message.len() > MAX_PAGE_BYTES {
                        page.next = Some(at);
                        return Ok(page);
                    }
                    bytes += event.message.len();
                }
                at = position(&event);
                page.scanned += 1;
                if hit {
                    page.events.push(event);
                    if page.events.len() >= limit {
                        page.next = Some(at);
                        return Ok(page);
                    }
                }
                if page.scanned >= MAX_SCANNED_PER_PAGE {
                    page.next = Some(at);
                    return Ok(page);
                }
            }
        }
    }

    /// Deletes a group, its streams and events; refused while a task writes to it. Tasks stay
    /// described; the next task of the store creates the group again.
    pub fn delete_log_group(&self, scope: &Scope, name: &str) -> Result<(), EngineError> {
        let group = self.log_group(scope, name)?;
        if !self.store().delete_log_group(&group)? {
            return Err(EngineError::LogGroupBusy(group.name));
        }
        Ok(())
    }
}
