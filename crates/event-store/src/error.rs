//! Errors of the store.

/// What can go wrong in the store. Missing rows are `Ok(None)`, not errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database was written by a newer trailport (schema {found}, this build knows {known})"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("corrupt stored value in {table}.{column}: {value:?}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        value: String,
    },
    #[error("stored log file {0} cannot be read back: {1}")]
    LogFile(i64, String),
    #[error("log segment {0}: {1}")]
    Segment(String, #[source] std::io::Error),
}
