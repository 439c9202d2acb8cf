//! Advanced event selectors of event data stores, and the rules AWS documents for them.

use crate::EngineError;

/// One advanced event selector: a name and the field selectors that must all hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvancedEventSelector {
    pub name: Option<String>,
    pub field_selectors: Vec<AdvancedFieldSelector>,
}

/// One condition on a field of the event record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdvancedFieldSelector {
    pub field: String,
    pub equals: Option<Vec<String>>,
    pub starts_with: Option<Vec<String>>,
    pub ends_with: Option<Vec<String>>,
    pub not_equals: Option<Vec<String>>,
    pub not_starts_with: Option<Vec<String>>,
    pub not_ends_with: Option<Vec<String>>,
}

/// The operators of a field selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    StartsWith,
    EndsWith,
    NotEquals,
    NotStartsWith,
    NotEndsWith,
}

impl AdvancedFieldSelector {
    /// The operators this selector uses, with their values.
    pub fn operators(&self) -> impl Iterator<Item = (Operator, &[String])> {
        [
            (Operator::Equals, &self.equals),
            (Operator::StartsWith, &self.starts_with),
            (Operator::EndsWith, &self.ends_with),
            (Operator::NotEquals, &self.not_equals),
            (Operator::NotStartsWith, &self.not_starts_with),
            (Operator::NotEndsWith, &self.not_ends_with),
        ]
        .into_iter()
        .filter_map(|(op, v)| v.as_deref().map(|v| (op, v)))
    }
}

/// The default selector of a new store: management events.
pub fn default_selectors() -> Vec<AdvancedEventSelector> {
    vec![AdvancedEventSelector {
        name: Some("Default management events".into()),
        field_selectors: vec![AdvancedFieldSelector {
            field: "eventCategory".into(),
            equals: Some(vec!["Management".into()]),
            ..Default::default()
        }],
    }]
}

/// At most this many selectors per store.
const MAX_SELECTORS: usize = 5;
/// At most this many values over every condition of every selector.
const MAX_VALUES: usize = 500;

/// The event categories a selector can name, and the kind of store each belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Management,
    Data,
    NetworkActivity,
    Insight,
    ConfigurationItem,
    Evidence,
    ActivityAuditLog,
}

impl Category {
    fn parse(s: &str) -> Option<Category> {
        Some(match s {
            "Management" => Category::Management,
            "Data" => Category::Data,
            "NetworkActivity" => Category::NetworkActivity,
            "Insight" => Category::Insight,
            "ConfigurationItem" => Category::ConfigurationItem,
            "Evidence" => Category::Evidence,
            "ActivityAuditLog" => Category::ActivityAuditLog,
            _ => return None,
        })
    }

    /// Management, data and network activity events make one kind of store (CloudTrail
    /// events); every other category is a kind of its own.
    fn is_trail_event(self) -> bool {
        matches!(
            self,
            Category::Management | Category::Data | Category::NetworkActivity
        )
    }
}

/// Which fields a selector of a category may use, and with which operators and values.
fn field_rule(field: &str, category: Category) -> Result<FieldRule, String> {
    use Category::*;
    let rule = match (field, category) {
        ("eventCategory", _) => FieldRule::EqualsOnly,
        ("readOnly", Management | Data) => FieldRule::Values(&["true", "false"]),
        ("eventSource", Management | Data) => FieldRule::Any,
        ("eventSource", NetworkActivity) => FieldRule::EqualsOnly,
        ("eventName", Management | Data | NetworkActivity) => FieldRule::Any,
        ("eventType" | "userIdentity.arn", Management | Data) => FieldRule::Any,
        ("sessionCredentialFromConsole", Management | Data) => FieldRule::EqualsOrNotEquals,
        ("resources.type", Data) => FieldRule::ResourceType,
        ("resources.ARN", Data) => FieldRule::Any,
        ("errorCode", NetworkActivity) => FieldRule::Values(&["VpceAccessDenied"]),
        ("vpcEndpointId", NetworkActivity) => FieldRule::Any,
        (
            "readOnly"
            | "eventSource"
            | "eventName"
            | "eventType"
            | "userIdentity.arn"
            | "sessionCredentialFromConsole"
            | "resources.type"
            | "resources.ARN"
            | "errorCode"
            | "vpcEndpointId",
            _,
        ) => {
            return Err(format!(
                "Field {field} is not supported for the eventCategory {category:?}."
            ))
        }
        _ => return Err(format!("Field {field} is not supported.")),
    };
    Ok(rule)
}

enum FieldRule {
    Any,
    EqualsOnly,
    EqualsOrNotEquals,
    /// `Equals` with one of these values.
    Values(&'static [&'static str]),
    /// `Equals` with a data resource type, `AWS::Service::Type`.
    ResourceType,
}

/// Checks selectors against the rules AWS documents for event data stores: at most 5
/// selectors and 500 values; each selector names exactly one `eventCategory` with `Equals`;
/// fields, operators and values as each category allows; data selectors name exactly one
/// `resources.type`, network activity ones an `eventSource`; a store holds either CloudTrail
/// events (management, data, network activity) or one other category alone.
pub fn validate(selectors: &[AdvancedEventSelector]) -> Result<(), EngineError> {
    fn bad<T>(msg: String) -> Result<T, EngineError> {
        Err(EngineError::InvalidEventSelectors(msg))
    }
    if selectors.len() > MAX_SELECTORS {
        return bad(format!(
            "An event data store can have at most {MAX_SELECTORS} advanced event selectors; {} were given.",
            selectors.len()
        ));
    }
    let values: usize = selectors
        .iter()
        .flat_map(|s| &s.field_selectors)
        .flat_map(|f| f.operators())
        .map(|(_, v)| v.len())
        .sum();
    if values > MAX_VALUES {
        return bad(format!(
            "Advanced event selectors can have at most {MAX_VALUES} values across all conditions; {values} were given."
        ));
    }
    let mut kinds: Vec<Category> = Vec::new();
    for s in selectors {
        let category = selector_category(s).or_else(bad)?;
        for f in &s.field_selectors {
            check_field(f, category).or_else(bad)?;
        }
        let count = |name: &str| s.field_selectors.iter().filter(|f| f.field == name).count();
        if category == Category::Data && count("resources.type") != 1 {
            return bad(
                "A selector for data events must have exactly one resources.type field.".into(),
            );
        }
        if category == Category::NetworkActivity && count("eventSource") == 0 {
            return bad(
                "A selector for network activity events must have an eventSource field.".into(),
            );
        }
        if !category.is_trail_event() && s.field_selectors.len() != 1 {
            return bad(format!(
                "A selector for {category:?} events can only have the eventCategory field."
            ));
        }
        kinds.push(category);
    }
    let trail = kinds.iter().filter(|c| c.is_trail_event()).count();
    let others: Vec<&Category> = kinds.iter().filter(|c| !c.is_trail_event()).collect();
    if (trail > 0 && !others.is_empty()) || others.windows(2).any(|w| w[0] != w[1]) {
        return bad("An event data store collects either CloudTrail events (Management, Data, NetworkActivity) or one other event category; the selectors mix them.".into());
    }
    Ok(())
}

/// The one category a selector names.
fn selector_category(s: &AdvancedEventSelector) -> Result<Category, String> {
    let mut found = s
        .field_selectors
        .iter()
        .filter(|f| f.field == "eventCategory");
    let (Some(f), None) = (found.next(), found.next()) else {
        return Err(
            "Each advanced event selector must have exactly one eventCategory field.".into(),
        );
    };
    match (f.equals.as_deref(), f.operators().count()) {
        (Some([value]), 1) => Category::parse(value)
            .ok_or_else(|| format!("Value {value} for eventCategory is invalid.")),
        _ => Err("The eventCategory field must use the Equals operator with one value.".into()),
    }
}

fn check_field(f: &AdvancedFieldSelector, category: Category) -> Result<(), String> {
    let field = f.field.as_str();
    let ops: Vec<(Operator, &[String])> = f.operators().collect();
    if ops.is_empty() {
        return Err(format!("The field selector for {field} has no operator."));
    }
    let only = |allowed: &[Operator], what: &str| {
        if ops.iter().all(|(op, _)| allowed.contains(op)) {
            Ok(())
        } else {
            Err(format!(
                "The {field} field supports only the {what} operator."
            ))
        }
    };
    match field_rule(field, category)? {
        FieldRule::Any => Ok(()),
        FieldRule::EqualsOnly => only(&[Operator::Equals], "Equals"),
        FieldRule::EqualsOrNotEquals => only(
            &[Operator::Equals, Operator::NotEquals],
            "Equals and NotEquals",
        ),
        FieldRule::Values(allowed) => {
            only(&[Operator::Equals], "Equals")?;
            for (_, values) in &ops {
                if let Some(v) = values.iter().find(|v| !allowed.contains(&v.as_str())) {
                    return Err(format!("Value {v} for {field} is invalid."));
                }
            }
            Ok(())
        }
        FieldRule::ResourceType => {
            only(&[Operator::Equals], "Equals")?;
            for (_, values) in &ops {
                if let Some(v) = values.iter().find(|v| !is_resource_type(v)) {
                    return Err(format!("Value {v} for resources.type is invalid."));
                }
            }
            Ok(())
        }
    }
}

/// `AWS::Service::Type`, the shape of every data resource type (the list keeps growing, so the
/// shape is checked rather than a list).
fn is_resource_type(v: &str) -> bool {
    let parts: Vec<&str> = v.split("::").collect();
    parts.len() == 3
        && parts[0] == "AWS"
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether a store with these selectors collects CloudTrail events (management, data or
/// network activity), so that trail events can be imported into it.
pub fn collects_trail_events(selectors: &[AdvancedEventSelector]) -> bool {
    selectors.iter().all(|s| {
        selector_category(s)
            .map(Category::is_trail_event)
            .unwrap_or(true)
    })
}
