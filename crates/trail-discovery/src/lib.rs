//! Finds CloudTrail log objects in a bucket and filters them by the dates in their keys.
//!
//! A bucket is reached through the [`ObjectSource`] trait (list with prefix and delimiter, read an
//! object); [`LocalDirSource`] serves a directory as a bucket root and [`MemorySource`] serves keys
//! held in memory. [`Location`] parses `s3://bucket/prefix` locations; `key.rs` is the one parser
//! of CloudTrail keys (folder dates, account folders, [`delivery_stamp`]); and [`discover`] walks
//! a source the way CloudTrail Lake's import does: only the `CloudTrail` folders by default,
//! everything under an explicit prefix outside the `AWSLogs/` layout, day folders outside a
//! [`TimeRange`] pruned without being listed, and files kept by the delivery stamp in their names.
//! Each surviving day folder is handed to the caller as a [`DiscoveredPrefix`] as soon as it is
//! listed, so memory holds one folder's listing at a time; the caller's `ControlFlow` stops it.

mod error;
mod key;
mod location;
mod source;
mod walk;

pub use error::{DiscoveryError, SourceError, SourceErrorKind};
pub use key::{delivery_stamp, folder_days};
pub use location::{bucket_name_from, is_bucket_name, is_key_prefix, Location};
pub use source::{Listing, LocalDirSource, MemorySource, ObjectMeta, ObjectSource};
pub use walk::{
    discover, discover_days, DiscoveredPrefix, DiscoveryStats, Found, TimeRange, Walked,
};
