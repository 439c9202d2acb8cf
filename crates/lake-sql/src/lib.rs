//! The CloudTrail Lake SQL dialect: parse, type-check and run Trino SELECTs over a store.
//!
//! [`plan::plan`] parses a statement with sqlparser, resolves its names against the stores and
//! its own relations, checks types as Trino does and writes one SQLite statement;
//! [`exec::run`] runs it on a read-only connection where [`functions`] supply Trino's
//! semantics, [`record`] reads the columns out of stored records and [`render`] writes the
//! cells GetQueryResults returns. Which queries exist and where their results go is the
//! engine's business, not this crate's.

pub mod exec;
pub mod functions;
pub mod plan;
pub mod record;
pub mod render;
pub mod types;

pub use exec::{run, RunError, ScanStats};
pub use plan::{plan, Catalog, Plan, PlanError};
pub use types::LakeType;
