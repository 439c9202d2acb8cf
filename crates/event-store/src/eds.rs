//! Event data stores.

use crate::{now_ms, Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};

/// `EventDataStoreStatus`, as persisted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Enabled => "ENABLED",
            Self::PendingDeletion => "PENDING_DELETION",
            Self::StartingIngestion => "STARTING_INGESTION",
            Self::StoppingIngestion => "STOPPING_INGESTION",
            Self::StoppedIngestion => "STOPPED_INGESTION",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What is needed to create an event data store.
#[derive(Debug, Clone)]
pub struct NewEventDataStore {
    pub name: String,
    pub region: String,
    pub account: String,
    pub status: EventDataStoreStatus,
    pub retention_days: i64,
    pub termination_protection: bool,
    pub multi_region: bool,
    pub organization: bool,
    pub billing_mode: String,
    /// Further settings, as a JSON object the store keeps but does not read.
    pub details: String,
}

impl NewEventDataStore {
    /// AWS's defaults: enabled, 2,557 days, protected, multi-Region, extendable billing.
    pub fn with_defaults(name: &str, region: &str, account: &str) -> Self {
        NewEventDataStore {
            name: name.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            status: EventDataStoreStatus::Enabled,
            retention_days: 2557,
            termination_protection: true,
            multi_region: true,
            organization: false,
            billing_mode: "EXTENDABLE_RETENTION_PRICING".to_string(),
            details: "{}".to_string(),
        }
    }
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
    pub billing_mode: String,
    pub details: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

const COLUMNS: &str = "num, id, arn, name, status, retention_days, termination_protection, \
     multi_region, organization, billing_mode, details, created_ms, updated_ms";

fn from_row(r: &Row) -> rusqlite::Result<Result<EventDataStore, StoreError>> {
    let status: String = r.get(4)?;
    let Some(parsed) = EventDataStoreStatus::parse(&status) else {
        return Ok(Err(StoreError::Corrupt {
            table: "event_data_stores",
            column: "status",
            value: status,
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
        billing_mode: r.get(9)?,
        details: r.get(10)?,
        created_ms: r.get(11)?,
        updated_ms: r.get(12)?,
    }))
}

impl Store {
    /// Creates an event data store with a fresh UUID and its ARN.
    pub fn create_event_data_store(
        &self,
        new: &NewEventDataStore,
    ) -> Result<EventDataStore, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let arn = format!(
            "arn:aws:cloudtrail:{}:{}:eventdatastore/{}",
            new.region, new.account, id
        );
        let now = now_ms();
        self.conn.execute(
            "INSERT INTO event_data_stores (id, arn, name, status, retention_days, \
             termination_protection, multi_region, organization, billing_mode, details, \
             created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            params![
                id,
                arn,
                new.name,
                new.status.as_str(),
                new.retention_days,
                new.termination_protection,
                new.multi_region,
                new.organization,
                new.billing_mode,
                new.details,
                now
            ],
        )?;
        Ok(self.event_data_store(&id)?.expect("just inserted"))
    }

    /// Finds a store by its ARN, its ID (the ARN's suffix) or its name.
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

    /// Every event data store, oldest first.
    pub fn event_data_stores(&self) -> Result<Vec<EventDataStore>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM event_data_stores ORDER BY num");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], from_row)?;
        rows.map(|r| r?).collect()
    }

    /// Writes back a store's mutable settings (name, status, retention, protection, regions,
    /// organisation, billing mode, details) and bumps `updated_ms`.
    pub fn update_event_data_store(&self, eds: &EventDataStore) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE event_data_stores SET name = ?2, status = ?3, retention_days = ?4, \
             termination_protection = ?5, multi_region = ?6, organization = ?7, \
             billing_mode = ?8, details = ?9, updated_ms = ?10 WHERE id = ?1",
            params![
                eds.id,
                eds.name,
                eds.status.as_str(),
                eds.retention_days,
                eds.termination_protection,
                eds.multi_region,
                eds.organization,
                eds.billing_mode,
                eds.details,
                now_ms()
            ],
        )?;
        Ok(())
    }

    /// Sets a store's status.
    pub fn set_event_data_store_status(
        &self,
        id: &str,
        status: EventDataStoreStatus,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE event_data_stores SET status = ?2, updated_ms = ?3 WHERE id = ?1",
            params![id, status.as_str(), now_ms()],
        )?;
        Ok(())
    }
}
