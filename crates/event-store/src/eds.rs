//! Event data stores.

use crate::{Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};

/// The lifecycle status of an event data store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventDataStoreStatus {
    Created,
    Enabled,
    PendingDeletion,
    StartingIngestion,
    StoppingIngestion,
    StoppedIngestion,
}

impl EventDataStoreStatus {
    pub const ALL: [EventDataStoreStatus; 6] = [
        Self::Created,
        Self::Enabled,
        Self::PendingDeletion,
        Self::StartingIngestion,
        Self::StoppingIngestion,
        Self::StoppedIngestion,
    ];

    /// How the status is written in the database.
    pub(crate) fn as_db(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Enabled => "ENABLED",
            Self::PendingDeletion => "PENDING_DELETION",
            Self::StartingIngestion => "STARTING_INGESTION",
            Self::StoppingIngestion => "STOPPING_INGESTION",
            Self::StoppedIngestion => "STOPPED_INGESTION",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_db() == s)
    }
}

/// How a store's retention is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingMode {
    /// Up to 3,653 days, and can be extended.
    ExtendableRetention,
    /// Up to 2,557 days.
    FixedRetention,
}

impl BillingMode {
    fn as_db(self) -> &'static str {
        match self {
            Self::ExtendableRetention => "EXTENDABLE_RETENTION_PRICING",
            Self::FixedRetention => "FIXED_RETENTION_PRICING",
        }
    }

    fn from_db(s: &str) -> Option<Self> {
        [Self::ExtendableRetention, Self::FixedRetention]
            .into_iter()
            .find(|v| v.as_db() == s)
    }
}

/// What is needed to create an event data store; the caller chooses its ID and ARN.
#[derive(Debug, Clone)]
pub struct NewEventDataStore {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub status: EventDataStoreStatus,
    pub retention_days: i64,
    pub termination_protection: bool,
    pub multi_region: bool,
    pub organization: bool,
    pub billing_mode: BillingMode,
    /// Further settings, as text the store keeps but does not read.
    pub details: String,
    pub now_ms: i64,
}

/// An event data store row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDataStore {
    pub num: i64,
    pub id: String,
    pub arn: String,
    pub name: String,
    pub status: EventDataStoreStatus,
    pub retention_days: i64,
    pub termination_protection: bool,
    pub multi_region: bool,
    pub organization: bool,
    pub billing_mode: BillingMode,
    pub details: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

const COLUMNS: &str = "num, id, arn, name, status, retention_days, termination_protection, \
     multi_region, organization, billing_mode, details, created_ms, updated_ms";

fn from_row(r: &Row) -> rusqlite::Result<Result<EventDataStore, StoreError>> {
    let status: String = r.get(4)?;
    let Some(parsed) = EventDataStoreStatus::from_db(&status) else {
        return Ok(Err(StoreError::Corrupt {
            table: "event_data_stores",
            column: "status",
            value: status,
        }));
    };
    let billing: String = r.get(9)?;
    let Some(billing_mode) = BillingMode::from_db(&billing) else {
        return Ok(Err(StoreError::Corrupt {
            table: "event_data_stores",
            column: "billing_mode",
            value: billing,
        }));
    };
    Ok(Ok(EventDataStore {
        num: r.get(0)?,
        id: r.get(1)?,
        arn: r.get(2)?,
        name: r.get(3)?,
        status: parsed,
        retention_days: r.get(5)?,
        termination_protection: r.get(6)?,
        multi_region: r.get(7)?,
        organization: r.get(8)?,
        billing_mode,
        details: r.get(10)?,
        created_ms: r.get(11)?,
        updated_ms: r.get(12)?,
    }))
}

impl Store {
    /// Creates an event data store.
    pub fn create_event_data_store(
        &self,
        new: &NewEventDataStore,
    ) -> Result<EventDataStore, StoreError> {
        self.conn.execute(
            "INSERT INTO event_data_stores (id, arn, name, status, retention_days, \
             termination_protection, multi_region, organization, billing_mode, details, \
             created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            params![
                new.id,
                new.arn,
                new.name,
                new.status.as_db(),
                new.retention_days,
                new.termination_protection,
                new.multi_region,
                new.organization,
                new.billing_mode.as_db(),
                new.details,
                new.now_ms
            ],
        )?;
        Ok(self.event_data_store(&new.id)?.expect("just inserted"))
    }

    /// Finds a store by its ARN, its ID (the ARN's suffix) or, failing both, its name.
    pub fn event_data_store(
        &self,
        id_arn_or_name: &str,
    ) -> Result<Option<EventDataStore>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM event_data_stores WHERE arn = ?1 OR id = ?1 \
             OR (name = ?1 AND NOT EXISTS (SELECT 1 FROM event_data_stores WHERE arn = ?1 OR id = ?1)) \
             ORDER BY num LIMIT 1"
        );
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id_arn_or_name], from_row)
            .optional()?;
        row.transpose()
    }

    /// Stores whose ARN starts with `arn_prefix` (one account and Region), oldest first, after
    /// the store numbered `after_num`, at most `limit`.
    pub fn event_data_stores(
        &self,
        arn_prefix: &str,
        after_num: i64,
        limit: usize,
    ) -> Result<Vec<EventDataStore>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM event_data_stores WHERE substr(arn, 1, length(?1)) = ?1 \
             AND num > ?2 ORDER BY num LIMIT ?3"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![arn_prefix, after_num, limit.min(i64::MAX as usize) as i64],
            from_row,
        )?;
        rows.map(|r| r?).collect()
    }

    /// Writes back a store's mutable settings (name, status, retention, protection, regions,
    /// organisation, billing mode, details) with `updated_ms` = `now_ms`.
    pub fn update_event_data_store(
        &self,
        eds: &EventDataStore,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE event_data_stores SET name = ?2, status = ?3, retention_days = ?4, \
             termination_protection = ?5, multi_region = ?6, organization = ?7, \
             billing_mode = ?8, details = ?9, updated_ms = ?10 WHERE id = ?1",
            params![
                eds.id,
                eds.name,
                eds.status.as_db(),
                eds.retention_days,
                eds.termination_protection,
                eds.multi_region,
                eds.organization,
                eds.billing_mode.as_db(),
                eds.details,
                now_ms
            ],
        )?;
        Ok(())
    }
}
