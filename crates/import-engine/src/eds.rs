//! Event data stores and their tags: every rule of the event data store operations.

use crate::selectors::{self, AdvancedEventSelector, AdvancedFieldSelector};
use crate::{Engine, EngineError, Page, Scope};
use event_store::{BillingMode, EventDataStoreStatus, ImportFilter, Tag};
use serde::{Deserialize, Serialize};

/// Event data stores per Region (any lifecycle stage), as the CloudTrail quota.
pub const MAX_EVENT_DATA_STORES: usize = 10;
/// Tags per resource.
pub const MAX_TAGS: usize = 50;
/// Resources one `ListTags` call may name.
pub const MAX_TAGGED_RESOURCES_PER_LIST: usize = 20;
/// The longest retention each billing mode allows, in days.
const MAX_RETENTION_FIXED: i64 = 2557;
pub const MAX_RETENTION_DAYS: i64 = 3653;

/// An event data store as the operations return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDataStore {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub status: EventDataStoreStatus,
    pub selectors: Vec<AdvancedEventSelector>,
    pub multi_region: bool,
    pub organization: bool,
    pub retention_days: i64,
    pub termination_protection: bool,
    pub billing_mode: BillingMode,
    pub kms_key_id: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// The store's row number, the key of its events.
    pub(crate) num: i64,
}

/// `CreateEventDataStore`.
#[derive(Debug, Clone)]
pub struct CreateEventDataStore {
    pub scope: Scope,
    pub name: String,
    pub selectors: Option<Vec<AdvancedEventSelector>>,
    pub multi_region: Option<bool>,
    pub organization: Option<bool>,
    pub retention_days: Option<i64>,
    pub termination_protection: Option<bool>,
    pub tags: Vec<Tag>,
    pub kms_key_id: Option<String>,
    pub start_ingestion: Option<bool>,
    pub billing_mode: Option<BillingMode>,
}

impl CreateEventDataStore {
    /// A request with AWS's defaults for everything but the name.
    pub fn named(scope: Scope, name: impl Into<String>) -> Self {
        CreateEventDataStore {
            scope,
            name: name.into(),
            selectors: None,
            multi_region: None,
            organization: None,
            retention_days: None,
            termination_protection: None,
            tags: Vec::new(),
            kms_key_id: None,
            start_ingestion: None,
            billing_mode: None,
        }
    }
}

/// What `CreateEventDataStore` answers: the store, showing the short-lived `CREATED` status as
/// AWS's response does, and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedEventDataStore {
    pub store: EventDataStore,
    pub tags: Vec<Tag>,
}

/// `UpdateEventDataStore`: every member but the store is optional, and at least one is set.
#[derive(Debug, Clone, Default)]
pub struct UpdateEventDataStore {
    pub scope: Scope,
    /// ARN or ID.
    pub event_data_store: String,
    pub name: Option<String>,
    pub selectors: Option<Vec<AdvancedEventSelector>>,
    pub multi_region: Option<bool>,
    pub organization: Option<bool>,
    pub retention_days: Option<i64>,
    pub termination_protection: Option<bool>,
    pub kms_key_id: Option<String>,
    pub billing_mode: Option<BillingMode>,
}

/// One resource's tags, as `ListTags` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTags {
    pub resource_id: String,
    pub tags: Vec<Tag>,
}

/// The settings a store keeps beyond its columns (the spelling of the first version's rows).
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct Details {
    #[serde(
        rename = "AdvancedEventSelectors",
        skip_serializing_if = "Option::is_none"
    )]
    selectors: Option<Vec<SelectorRow>>,
    #[serde(rename = "KmsKeyId", skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct SelectorRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    field_selectors: Vec<FieldRow>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct FieldRow {
    field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ends_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_equals: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_starts_with: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_ends_with: Option<Vec<String>>,
}

fn details_text(selectors: &[AdvancedEventSelector], kms_key_id: Option<&str>) -> String {
    let d = Details {
        selectors: Some(
            selectors
                .iter()
                .map(|s| SelectorRow {
                    name: s.name.clone(),
                    field_selectors: s
                        .field_selectors
                        .iter()
                        .map(|f| FieldRow {
                            field: f.field.clone(),
                            equals: f.equals.clone(),
                            starts_with: f.starts_with.clone(),
                            ends_with: f.ends_with.clone(),
                            not_equals: f.not_equals.clone(),
                            not_starts_with: f.not_starts_with.clone(),
                            not_ends_with: f.not_ends_with.clone(),
                        })
                        .collect(),
                })
                .collect(),
        ),
        kms_key_id: kms_key_id.map(str::to_string),
    };
    serde_json::to_string(&d).expect("details serialise")
}

impl From<event_store::EventDataStore> for EventDataStore {
    fn from(row: event_store::EventDataStore) -> Self {
        let d: Details = serde_json::from_str(&row.details).unwrap_or_default();
        EventDataStore {
            selectors: d
                .selectors
                .unwrap_or_default()
                .into_iter()
                .map(|s| AdvancedEventSelector {
                    name: s.name,
                    field_selectors: s
                        .field_selectors
                        .into_iter()
                        .map(|f| AdvancedFieldSelector {
                            field: f.field,
                            equals: f.equals,
                            starts_with: f.starts_with,
                            ends_with: f.ends_with,
                            not_equals: f.not_equals,
                            not_starts_with: f.not_starts_with,
                            not_ends_with: f.not_ends_with,
                        })
                        .collect(),
                })
                .collect(),
            kms_key_id: d.kms_key_id,
            id: row.id,
            arn: row.arn,
            name: row.name,
            status: row.status,
            multi_region: row.multi_region,
            organization: row.organization,
            retention_days: row.retention_days,
            termination_protection: row.termination_protection,
            billing_mode: row.billing_mode,
            created_ms: row.created_ms,
            updated_ms: row.updated_ms,
            num: row.num,
        }
    }
}

fn check_retention(billing: BillingMode, days: i64) -> Result<(), EngineError> {
    if billing == BillingMode::FixedRetention && days > MAX_RETENTION_FIXED {
        return Err(EngineError::InvalidParameter(format!(
            "RetentionPeriod {days} is not valid with fixed retention pricing: the maximum is {MAX_RETENTION_FIXED} days."
        )));
    }
    Ok(())
}

/// Key lengths, values and duplicates of a list of tags.
fn check_tags(tags: &[Tag]) -> Result<(), EngineError> {
    let bad = |m: String| Err(EngineError::InvalidTagParameter(m));
    for (i, t) in tags.iter().enumerate() {
        if t.key.is_empty() || t.key.chars().count() > 128 {
            return bad(format!(
                "Tag key {:?} is not valid: it must be 1 to 128 characters.",
                t.key
            ));
        }
        if t.value.as_ref().is_some_and(|v| v.chars().count() > 256) {
            return bad(format!(
                "The value of tag {} is longer than 256 characters.",
                t.key
            ));
        }
        if tags[..i].iter().any(|u| u.key == t.key) {
            return bad(format!("Tag key {} appears more than once.", t.key));
        }
    }
    Ok(())
}

impl Engine {
    /// Finds a store of `scope` by ARN or ID, as AWS does: a malformed ARN, or one of another
    /// account or partition, is `EventDataStoreArnInvalid`; a well-formed one that is not in this
    /// account and Region is not found.
    pub(crate) fn find_eds(
        &self,
        scope: &Scope,
        key: &str,
    ) -> Result<event_store::EventDataStore, EngineError> {
        let invalid = || EngineError::EventDataStoreArnInvalid(key.to_string());
        if key.starts_with("arn:") {
            let arn = crate::scope::CloudTrailArn::parse(key).ok_or_else(invalid)?;
            if arn.account != scope.account
                || arn.partition != scope.partition()
                || arn.resource_type != "eventdatastore"
            {
                return Err(invalid());
            }
        } else if !crate::scope::is_eds_id(key) {
            return Err(invalid());
        }
        let found = self.store().event_data_store(key)?;
        match found {
            Some(eds)
                if (eds.arn == key || eds.id == key)
                    && eds.arn.starts_with(&scope.eds_arn_prefix()) =>
            {
                Ok(eds)
            }
            _ => Err(EngineError::EventDataStoreNotFound(key.to_string())),
        }
    }

    /// Every store of a scope, oldest first.
    fn stores_in(&self, scope: &Scope) -> Result<Vec<event_store::EventDataStore>, EngineError> {
        Ok(self
            .store()
            .event_data_stores(&scope.eds_arn_prefix(), 0, usize::MAX)?)
    }

    /// `EventDataStoreHasOngoingImport` when an import into the store is still running.
    fn refuse_if_importing(&self, eds: &event_store::EventDataStore) -> Result<(), EngineError> {
        let ongoing = self
            .store()
            .imports(
                &ImportFilter {
                    destination: Some(eds.arn.clone()),
                    ..Default::default()
                },
                None,
                usize::MAX,
            )?
            .into_iter()
            .any(|i| i.status.is_ongoing());
        if ongoing {
            return Err(EngineError::EventDataStoreHasOngoingImport(eds.arn.clone()));
        }
        Ok(())
    }

    pub fn create_event_data_store(
        &self,
        r: CreateEventDataStore,
    ) -> Result<CreatedEventDataStore, EngineError> {
        let existing = self.stores_in(&r.scope)?;
        if existing.iter().any(|e| e.name == r.name) {
            return Err(EngineError::EventDataStoreAlreadyExists(r.name));
        }
        if existing.len() >= MAX_EVENT_DATA_STORES {
            return Err(EngineError::EventDataStoreMaxLimitExceeded {
                region: r.scope.region.clone(),
                max: MAX_EVENT_DATA_STORES,
            });
        }
        let billing = r.billing_mode.unwrap_or(BillingMode::ExtendableRetention);
        let retention = r.retention_days.unwrap_or(match billing {
            BillingMode::FixedRetention => MAX_RETENTION_FIXED,
            BillingMode::ExtendableRetention => 366,
        });
        check_retention(billing, retention)?;
        let selectors = r.selectors.unwrap_or_else(selectors::default_selectors);
        selectors::validate(&selectors)?;
        check_tags(&r.tags)?;
        if r.tags.len() > MAX_TAGS {
            return Err(EngineError::InvalidTagParameter(format!(
                "At most {MAX_TAGS} tags can be given; {} were.",
                r.tags.len()
            )));
        }
        let status = if r.start_ingestion.unwrap_or(true) {
            EventDataStoreStatus::Enabled
        } else {
            EventDataStoreStatus::StoppedIngestion
        };
        let id = uuid::Uuid::new_v4().to_string();
        let arn = r.scope.eds_arn(&id);
        let store = self.store();
        let row = store.create_event_data_store(&event_store::NewEventDataStore {
            id,
            arn: arn.clone(),
            name: r.name,
            status,
            retention_days: retention,
            termination_protection: r.termination_protection.unwrap_or(true),
            multi_region: r.multi_region.unwrap_or(true),
            organization: r.organization.unwrap_or(false),
            billing_mode: billing,
            details: details_text(&selectors, r.kms_key_id.as_deref()),
            now_ms: self.now_ms(),
        })?;
        store.add_tags(&arn, &r.tags)?;
        let mut created = EventDataStore::from(row);
        // The create response shows the short-lived CREATED status, as AWS's does.
        created.status = EventDataStoreStatus::Created;
        Ok(CreatedEventDataStore {
            store: created,
            tags: store.tags(&arn)?,
        })
    }

    pub fn get_event_data_store(
        &self,
        scope: &Scope,
        key: &str,
    ) -> Result<EventDataStore, EngineError> {
        Ok(self.find_eds(scope, key)?.into())
    }

    /// The store of `scope` with this name, if there is one.
    pub fn event_data_store_named(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Option<EventDataStore>, EngineError> {
        Ok(self
            .stores_in(scope)?
            .into_iter()
            .find(|e| e.name == name)
            .map(EventDataStore::from))
    }

    /// The stores of a scope, oldest first, from after the store `after` (a cursor from a
    /// previous page).
    pub fn list_event_data_stores(
        &self,
        scope: &Scope,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Page<EventDataStore, i64>, EngineError> {
        let mut rows = self.store().event_data_stores(
            &scope.eds_arn_prefix(),
            after.unwrap_or(0),
            limit.saturating_add(1),
        )?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more.then(|| rows.last().map(|r| r.num)).flatten();
        Ok(Page {
            items: rows.into_iter().map(EventDataStore::from).collect(),
            next,
        })
    }

    pub fn update_event_data_store(
        &self,
        r: UpdateEventDataStore,
    ) -> Result<EventDataStore, EngineError> {
        let nothing = r.name.is_none()
            && r.selectors.is_none()
            && r.multi_region.is_none()
            && r.organization.is_none()
            && r.retention_days.is_none()
            && r.termination_protection.is_none()
            && r.kms_key_id.is_none()
            && r.billing_mode.is_none();
        if nothing {
            return Err(EngineError::InvalidParameter(
                "At least one optional parameter must be specified besides EventDataStore.".into(),
            ));
        }
        let mut row = self.find_eds(&r.scope, &r.event_data_store)?;
        if row.status == EventDataStoreStatus::PendingDeletion {
            return Err(EngineError::InactiveEventDataStore(row.arn));
        }
        self.refuse_if_importing(&row)?;
        let current = EventDataStore::from(row.clone());
        if let Some(name) = r.name {
            if name != row.name && self.stores_in(&r.scope)?.iter().any(|e| e.name == name) {
                return Err(EngineError::EventDataStoreAlreadyExists(name));
            }
            row.name = name;
        }
        if let Some(b) = r.billing_mode {
            let allowed = b == row.billing_mode
                || (row.billing_mode == BillingMode::FixedRetention
                    && b == BillingMode::ExtendableRetention);
            if !allowed {
                return Err(EngineError::InvalidParameter(
                    "The billing mode can only change from fixed to extendable retention pricing."
                        .into(),
                ));
            }
            row.billing_mode = b;
        }
        if let Some(days) = r.retention_days {
            row.retention_days = days;
        }
        check_retention(row.billing_mode, row.retention_days)?;
        if let Some(v) = r.multi_region {
            row.multi_region = v;
        }
        if let Some(v) = r.organization {
            row.organization = v;
        }
        if let Some(v) = r.termination_protection {
            row.termination_protection = v;
        }
        let selectors = match r.selectors {
            Some(s) => {
                selectors::validate(&s)?;
                s
            }
            None => current.selectors,
        };
        let kms = r.kms_key_id.or(current.kms_key_id);
        row.details = details_text(&selectors, kms.as_deref());
        let store = self.store();
        store.update_event_data_store(&row, self.now_ms())?;
        Ok(store
            .event_data_store(&row.id)?
            .map(EventDataStore::from)
            .expect("updated store exists"))
    }

    /// Deletes a store: it waits `PENDING_DELETION` (never purged here) unless restored.
    pub fn delete_event_data_store(&self, scope: &Scope, key: &str) -> Result<(), EngineError> {
        let eds = self.find_eds(scope, key)?;
        if eds.status == EventDataStoreStatus::PendingDeletion {
            return Err(EngineError::InactiveEventDataStore(eds.arn));
        }
        if eds.termination_protection {
            return Err(EngineError::EventDataStoreTerminationProtected(eds.arn));
        }
        self.refuse_if_importing(&eds)?;
        // Nor while a Logs import task is copying it.
        if self.has_log_task_in_progress(eds.num)? {
            return Err(EngineError::EventDataStoreHasOngoingImport(eds.arn));
        }
        self.set_eds_status(eds, EventDataStoreStatus::PendingDeletion)?;
        Ok(())
    }

    /// Restores a store pending deletion.
    pub fn restore_event_data_store(
        &self,
        scope: &Scope,
        key: &str,
    ) -> Result<EventDataStore, EngineError> {
        let eds = self.find_eds(scope, key)?;
        self.require_status(&eds, EventDataStoreStatus::PendingDeletion)?;
        self.set_eds_status(eds, EventDataStoreStatus::Enabled)
    }

    /// Starts (`STOPPED_INGESTION` → `ENABLED`) or stops (`ENABLED` → `STOPPED_INGESTION`) live
    /// ingestion.
    pub fn set_ingestion(&self, scope: &Scope, key: &str, on: bool) -> Result<(), EngineError> {
        let eds = self.find_eds(scope, key)?;
        let (from, to) = if on {
            (
                EventDataStoreStatus::StoppedIngestion,
                EventDataStoreStatus::Enabled,
            )
        } else {
            (
                EventDataStoreStatus::Enabled,
                EventDataStoreStatus::StoppedIngestion,
            )
        };
        self.require_status(&eds, from)?;
        self.set_eds_status(eds, to)?;
        Ok(())
    }

    fn require_status(
        &self,
        eds: &event_store::EventDataStore,
        needed: EventDataStoreStatus,
    ) -> Result<(), EngineError> {
        if eds.status != needed {
            return Err(EngineError::InvalidEventDataStoreStatus {
                arn: eds.arn.clone(),
                status: eds.status,
                needed: Some(needed),
            });
        }
        Ok(())
    }

    fn set_eds_status(
        &self,
        mut eds: event_store::EventDataStore,
        status: EventDataStoreStatus,
    ) -> Result<EventDataStore, EngineError> {
        eds.status = status;
        let store = self.store();
        store.update_event_data_store(&eds, self.now_ms())?;
        Ok(store
            .event_data_store(&eds.id)?
            .map(EventDataStore::from)
            .expect("updated store exists"))
    }

    /// The event data store a tag operation names by ARN.
    fn tagged_resource(
        &self,
        scope: &Scope,
        resource: &str,
    ) -> Result<event_store::EventDataStore, EngineError> {
        let arn = crate::scope::CloudTrailArn::parse(resource).ok_or_else(|| {
            EngineError::CloudTrailArnInvalid(format!("{resource} is not a valid CloudTrail ARN."))
        })?;
        if arn.account != scope.account || arn.partition != scope.partition() {
            return Err(EngineError::CloudTrailArnInvalid(format!(
                "AccountID in ARN is wrong, you can only access resources with AccountID {}.",
                scope.account
            )));
        }
        if arn.resource_type != "eventdatastore" {
            return Err(EngineError::ResourceTypeNotSupported(resource.to_string()));
        }
        match self.store().event_data_store(resource)? {
            Some(eds) if eds.arn == resource && eds.arn.starts_with(&scope.eds_arn_prefix()) => {
                Ok(eds)
            }
            _ => Err(EngineError::ResourceNotFound(resource.to_string())),
        }
    }

    /// Adds tags (or replaces the values of keys it already has); at most 50 in all.
    pub fn add_tags(&self, scope: &Scope, resource: &str, tags: &[Tag]) -> Result<(), EngineError> {
        let eds = self.tagged_resource(scope, resource)?;
        if eds.status == EventDataStoreStatus::PendingDeletion {
            return Err(EngineError::InactiveEventDataStore(eds.arn));
        }
        check_tags(tags)?;
        let store = self.store();
        let current = store.tags(&eds.arn)?;
        let added = tags
            .iter()
            .filter(|t| !current.iter().any(|c| c.key == t.key))
            .count();
        if current.len() + added > MAX_TAGS {
            return Err(EngineError::TagsLimitExceeded(eds.arn));
        }
        store.add_tags(&eds.arn, tags)?;
        Ok(())
    }

    /// Removes tags by key (their values are not compared; keys absent are ignored).
    pub fn remove_tags(
        &self,
        scope: &Scope,
        resource: &str,
        keys: &[&str],
    ) -> Result<(), EngineError> {
        let eds = self.tagged_resource(scope, resource)?;
        if eds.status == EventDataStoreStatus::PendingDeletion {
            return Err(EngineError::InactiveEventDataStore(eds.arn));
        }
        self.store().remove_tags(&eds.arn, keys)?;
        Ok(())
    }

    /// The tags of each resource, in the order asked, an entry for every one.
    pub fn list_tags(
        &self,
        scope: &Scope,
        resources: &[String],
    ) -> Result<Vec<ResourceTags>, EngineError> {
        if resources.len() > MAX_TAGGED_RESOURCES_PER_LIST {
            return Err(EngineError::InvalidParameter(format!(
                "ListTags takes at most {MAX_TAGGED_RESOURCES_PER_LIST} resources; {} were given.",
                resources.len()
            )));
        }
        resources
            .iter()
            .map(|r| {
                let eds = self.tagged_resource(scope, r)?;
                Ok(ResourceTags {
                    resource_id: eds.arn.clone(),
                    tags: self.store().tags(&eds.arn)?,
                })
            })
            .collect()
    }
}
