//! The walk: which folders are scanned, which are pruned by date, which files are kept.

use crate::key::{
    delivery_stamp, folder_days, has_segment, is_account_folder, last_segment, AWSLOGS_SEGMENT,
    CLOUDTRAIL_SEGMENT,
};
use crate::{DiscoveryError, Listing, ObjectMeta, ObjectSource, SourceError};
use chrono::{DateTime, NaiveDate, Utc};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How deep the default scope looks for a `CloudTrail` folder before giving up on a branch.
const MAX_DEPTH_TO_CLOUDTRAIL: usize = 12;

/// An inclusive time range; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl TimeRange {
    pub fn new(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Self {
        TimeRange { start, end }
    }

    pub fn is_bounded(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    /// Whether `[lo, hi)` meets the range.
    fn overlaps(&self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| hi > s) && self.end.is_none_or(|e| lo <= e)
    }

    /// Whether a file named `file_name` is attempted: always without a range; with one, only
    /// when its delivery stamp lies inside it.
    pub fn admits_file(&self, file_name: &str) -> bool {
        if !self.is_bounded() {
            return true;
        }
        delivery_stamp(file_name).is_some_and(|t| self.contains(t))
    }

    /// Whether a folder ending in `YYYY/`, `YYYY/MM/` or `YYYY/MM/DD/` can hold files in range.
    /// Folders of any other shape, and date-like folders that are not dates, are never pruned.
    pub fn admits_folder(&self, folder: &str) -> bool {
        if !self.is_bounded() {
            return true;
        }
        let Some((lo, hi)) = folder_days(folder) else {
            return true;
        };
        let at_midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
        self.overlaps(at_midnight(lo), at_midnight(hi))
    }
}

/// One folder that holds log files to import: a day folder (`.../REGION/YYYY/MM/DD/`) in the
/// standard layout, or any folder with files under an explicit prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredPrefix {
    /// The folder's key, ending in `/` (empty for the bucket root).
    pub prefix: String,
    /// Its files that survived the filters, in key order.
    pub objects: Vec<ObjectMeta>,
}

/// What the walk hands its caller, folder by folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A folder holding files to import.
    Folder(DiscoveredPrefix),
    /// A folder below the walk's start that could not be listed (unreadable, say); the rest of
    /// the bucket is walked all the same.
    Unlistable { prefix: String, error: SourceError },
}

/// What a walk saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoveryStats {
    pub list_calls: u64,
    /// Folders handed to the caller (`PrefixesFound`).
    pub prefixes_found: u64,
    pub files_found: u64,
    pub bytes_found: u64,
    /// Files in scope whose name put them outside the time range.
    pub files_out_of_range: u64,
    /// Zero-byte folder markers (keys ending in `/`) skipped.
    pub folder_markers: u64,
}

/// What a walk did: its statistics, and the value the caller broke off with, if it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked<B> {
    pub stats: DiscoveryStats,
    pub stopped: Option<B>,
}

/// Which files and folders below a folder are candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Looking for a `CloudTrail` folder (the default scope, and below `AWSLogs/`): files here
    /// are not candidates; `depth` folders have been entered since the search began.
    Seek { depth: usize },
    /// Inside a `CloudTrail` folder: everything is a candidate.
    Trail,
    /// Under an explicit prefix outside the standard layout: everything is a candidate until
    /// the walk enters an `AWSLogs/` folder, where the default rule applies again.
    Everything,
}

impl Scope {
    /// The scope an import starts in, from its prefix.
    fn of_prefix(prefix: &str) -> Scope {
        if prefix.is_empty() {
            Scope::Seek { depth: 0 }
        } else if has_segment(prefix, CLOUDTRAIL_SEGMENT) {
            Scope::Trail
        } else if has_segment(prefix, AWSLOGS_SEGMENT) {
            Scope::Seek { depth: 0 }
        } else {
            Scope::Everything
        }
    }

    fn takes_files(self) -> bool {
        !matches!(self, Scope::Seek { .. })
    }

    /// The scope of `child`, a sub-folder of `folder`, or `None` if it is not walked.
    fn of_child(self, folder: &str, child: &str) -> Option<Scope> {
        let name = last_segment(child);
        match self {
            Scope::Trail => Some(Scope::Trail),
            Scope::Everything if name == AWSLOGS_SEGMENT => Some(Scope::Seek { depth: 0 }),
            Scope::Everything => Some(Scope::Everything),
            Scope::Seek { .. } if name == CLOUDTRAIL_SEGMENT => Some(Scope::Trail),
            // Below an account, only `CloudTrail/` holds trail logs.
            Scope::Seek { .. } if is_account_folder(folder) => None,
            Scope::Seek { depth } if depth >= MAX_DEPTH_TO_CLOUDTRAIL => None,
            Scope::Seek { depth } => Some(Scope::Seek { depth: depth + 1 }),
        }
    }
}

/// Walks `source` from `prefix` and calls `on_found` for every folder holding files to import,
/// and for every folder below the start that cannot be listed, until it returns
/// `ControlFlow::Break`. Only a start that cannot be listed fails the walk.
///
/// With an empty `prefix` only what lies under a path segment exactly `CloudTrail` is scanned
/// (`AWSLogs/[o-org/]ACCOUNT/CloudTrail/...`); siblings such as `CloudTrail-Digest`,
/// `CloudTrail-Insight` or other services' folders are never listed. A non-empty `prefix` names
/// a folder (a `/` is added if missing): at or below a `CloudTrail` folder, or in a layout
/// without `AWSLogs/`, everything under it is a candidate; once the walk enters an `AWSLogs/`
/// folder (a trail's `S3KeyPrefix` names the folder above it) the default rule applies again,
/// so a trail's digests and other services' logs beside it are not read. Folders whose date
/// lies outside `range` are pruned without being listed, then files are kept by the delivery
/// stamp in their names. Keys ending in `/` are skipped.
///
/// A source that lists several folders at once ([`ObjectSource::list_concurrency`]) has the
/// folders the walk visits next listed while it lists the one it is at; `on_found` still sees
/// them one by one, in key order, on the caller's thread.
pub fn discover<B>(
    source: &dyn ObjectSource,
    prefix: &str,
    range: &TimeRange,
    on_found: impl FnMut(Found) -> ControlFlow<B>,
) -> Result<Walked<B>, DiscoveryError> {
    discover_days(source, prefix, range, &|_| true, on_found)
}

/// [`discover`], listing only the day folders (`…/YYYY/MM/DD/`) that `wanted` accepts: a
/// share of a bucket (a shard) is found without listing the other shares' days. Folders of
/// other shapes are walked as `discover` walks them.
pub fn discover_days<B>(
    source: &dyn ObjectSource,
    prefix: &str,
    range: &TimeRange,
    wanted: &dyn Fn(&str) -> bool,
    mut on_found: impl FnMut(Found) -> ControlFlow<B>,
) -> Result<Walked<B>, DiscoveryError> {
    let root = if !prefix.is_empty() && !prefix.ends_with('/') {
        format!("{prefix}/")
    } else {
        prefix.to_string()
    };
    let mut stats = DiscoveryStats::default();
    let ahead = source.list_concurrency().clamp(1, MAX_LISTS_AT_ONCE);
    let counts = AheadCounts::default();
    std::thread::scope(|threads| {
        // Depth-first in key order: a stack of the folders still to visit, the next on top.
        let mut stack = vec![Pending {
            folder: root.clone(),
            scope: Scope::of_prefix(&root),
            listing: None,
        }];
        // Lists running ahead of the walk: at most `ahead`, counting the walk's own. Their
        // answers wait on the stack until the walk comes to them: at most `held` of them,
        // and no new list starts while those waiting hold MAX_NAMES_WAITING names or more.
        let counts = &counts;
        let held = ahead.saturating_mul(4);
        let mut started = 0;
        while let Some(next) = stack.pop() {
            let Pending {
                folder,
                scope,
                listing,
            } = next;
            stats.list_calls += 1;
            let listing = match listing {
                Some(list) => {
                    started -= 1;
                    // A list that panicked panics the walk only now that it needs the folder.
                    let listing = match list.join() {
                        Ok(Ok(listing)) => listing,
                        Ok(Err(panic)) | Err(panic) => std::panic::resume_unwind(panic),
                    };
                    if let Ok(l) = &listing {
                        counts.waiting_names.fetch_sub(names(l), Ordering::SeqCst);
                    }
                    listing
                }
                None => source.list(&folder, "/"),
            };
            let listing = match listing {
                Ok(listing) => listing,
                Err(error) if folder == root => {
                    return Err(DiscoveryError::List {
                        bucket: source.bucket().to_string(),
                        prefix: folder,
                        source: error,
                    })
                }
                Err(error) => {
                    let found = Found::Unlistable {
                        prefix: folder,
                        error,
                    };
                    if let ControlFlow::Break(b) = on_found(found) {
                        return Ok(Walked {
                            stats,
                            stopped: Some(b),
                        });
                    }
                    continue;
                }
            };
            if scope.takes_files() {
                let mut kept = Vec::new();
                for obj in listing.objects {
                    if obj.key.ends_with('/') {
                        stats.folder_markers += 1;
                    } else if range.admits_file(file_name(&obj.key)) {
                        stats.files_found += 1;
                        stats.bytes_found += obj.size;
                        kept.push(obj);
                    } else {
                        stats.files_out_of_range += 1;
                    }
                }
                if !kept.is_empty() {
                    stats.prefixes_found += 1;
                    let found = Found::Folder(DiscoveredPrefix {
                        prefix: folder.clone(),
                        objects: kept,
                    });
                    if let ControlFlow::Break(b) = on_found(found) {
                        return Ok(Walked {
                            stats,
                            stopped: Some(b),
                        });
                    }
                }
            }
            for child in listing.common_prefixes.into_iter().rev() {
                let Some(child_scope) = scope.of_child(&folder, &child) else {
                    continue;
                };
                if child_scope.takes_files() && !range.admits_folder(&child) {
                    continue;
                }
                let is_day = folder_days(&child)
                    .is_some_and(|(lo, hi)| hi.signed_duration_since(lo).num_days() == 1);
                if is_day && !wanted(&child) {
                    continue;
                }
                stack.push(Pending {
                    folder: child,
                    scope: child_scope,
                    listing: None,
                });
            }
            // Every folder on the stack will be visited, so listing the next ones now is never
            // wasted; the walk still hands them over one by one, in key order. (A walk that
            // breaks off still waits, at its end, for the lists it started.)
            for pending in stack.iter_mut().rev().skip(1).take(held) {
                if started >= held
                    || counts.running.load(Ordering::SeqCst) + 1 >= ahead
                    || counts.waiting_names.load(Ordering::SeqCst) >= MAX_NAMES_WAITING
                {
                    break;
                }
                if pending.listing.is_none() {
                    let folder = pending.folder.clone();
                    counts.running.fetch_add(1, Ordering::SeqCst);
                    pending.listing = Some(threads.spawn(move || {
                        let _running = Running(&counts.running);
                        let listing =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                source.list(&folder, "/")
                            }));
                        if let Ok(Ok(l)) = &listing {
                            counts.waiting_names.fetch_add(names(l), Ordering::SeqCst);
                        }
                        listing
                    }));
                    started += 1;
                }
            }
        }
        Ok(Walked {
            stats,
            stopped: None,
        })
    })
}

/// The most lists a walk runs at once, whatever its source asks for.
const MAX_LISTS_AT_ONCE: usize = 64;

/// Listing ahead pauses while the listings waiting for the walk hold this many names (keys
/// and sub-folders, about 30 MB) or more.
const MAX_NAMES_WAITING: usize = 200_000;

/// A folder the walk has still to visit, and its listing if it was started ahead of the walk.
struct Pending<'scope> {
    folder: String,
    scope: Scope,
    listing: Option<std::thread::ScopedJoinHandle<'scope, ListedAhead>>,
}

/// A list run ahead of the walk: its answer, or the panic it ended in.
type ListedAhead = std::thread::Result<Result<Listing, SourceError>>;

#[derive(Default)]
struct AheadCounts {
    /// Lists running ahead of the walk.
    running: AtomicUsize,
    /// Names in the finished listings that wait for the walk.
    waiting_names: AtomicUsize,
}

/// Counts one list ahead as running until it ends, however it ends.
struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn names(listing: &Listing) -> usize {
    listing.objects.len() + listing.common_prefixes.len()
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}
