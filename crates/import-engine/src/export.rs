//! Reading a store's events out for export, in the order the Parquet layout wants them.

use crate::{Engine, EngineError, Scope};
use event_store::{PartitionValues, PartitionedEvent};

impl Engine {
    /// The recipient accounts and Regions of the store `key`'s events, and its first eventTime.
    pub fn partition_values(
        &self,
        scope: &Scope,
        key: &str,
    ) -> Result<PartitionValues, EngineError> {
        let num = self.store_num(scope, key)?;
        Ok(self.store().partition_values(num)?)
    }

    fn store_num(&self, scope: &Scope, key: &str) -> Result<i64, EngineError> {
        Ok(match self.event_data_store_named(scope, key)? {
            Some(eds) => eds.num,
            None => self.find_eds(scope, key)?.num,
        })
    }

    /// The store `key` names (its name, ID or ARN) in `scope`: its ID and ARN.
    pub fn resolve_event_data_store(
        &self,
        scope: &Scope,
        key: &str,
    ) -> Result<(String, String), EngineError> {
        if let Some(eds) = self.event_data_store_named(scope, key)? {
            return Ok((eds.id, eds.arn));
        }
        let eds = self.find_eds(scope, key)?;
        Ok((eds.id, eds.arn))
    }

    /// Every event of the store `key` (name, ID or ARN) with eventTime in `[start_ms, end_ms]`,
    /// ordered by recipient account, Region and eventTime, each handed to `each` with its
    /// record's exact bytes. Stops at the first `Err` of `each` and returns it inside `Ok`.
    pub fn export_events<E>(
        &self,
        scope: &Scope,
        key: &str,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        each: impl FnMut(&PartitionedEvent<'_>) -> Result<(), E>,
    ) -> Result<Result<(), E>, EngineError> {
        let num = self.store_num(scope, key)?;
        Ok(self
            .store()
            .for_each_event_by_partition(num, start_ms, end_ms, each)?)
    }
}
