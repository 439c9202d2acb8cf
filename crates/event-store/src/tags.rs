//! Tags of resources (event data stores), by ARN, in the order they were first added.

use crate::{Store, StoreError};
use rusqlite::params;

/// One tag: a key, unique per resource, and an optional value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: Option<String>,
}

impl Store {
    /// The tags of `resource`.
    pub fn tags(&self, resource: &str) -> Result<Vec<Tag>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM tags WHERE resource = ?1 ORDER BY num")?;
        let rows = stmt.query_map([resource], |r| {
            Ok(Tag {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds `tags` to `resource`, replacing the value of keys it already has, in one
    /// transaction.
    pub fn add_tags(&self, resource: &str, tags: &[Tag]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO tags (resource, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (resource, key) DO UPDATE SET value = excluded.value",
            )?;
            for t in tags {
                stmt.execute(params![resource, t.key, t.value])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes the tags of `resource` with these keys (keys it lacks are ignored).
    pub fn remove_tags(&self, resource: &str, keys: &[&str]) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut stmt =
                tx.prepare_cached("DELETE FROM tags WHERE resource = ?1 AND key = ?2")?;
            for k in keys {
                stmt.execute(params![resource, k])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
