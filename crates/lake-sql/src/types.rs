//! Lake's types, the table an event data store exposes, and how each type's values are held in
//! SQLite while a query runs.
//!
//! Representation in SQLite (every function in [`crate::functions`] takes and gives these):
//!
//! | Lake type | SQLite value |
//! |---|---|
//! | `varchar` | TEXT |
//! | `bigint` | INTEGER |
//! | `double` | REAL |
//! | `boolean` | INTEGER 0 or 1 |
//! | `timestamp(3)`, `timestamp(3) with time zone` | INTEGER, milliseconds since 1970-01-01 UTC |
//! | `date` | INTEGER, days since 1970-01-01 |
//! | `map(varchar, varchar)` | TEXT, a JSON object of strings (or null), keys in the record's order |
//! | `array(T)` | TEXT, a JSON array of the elements' JSON forms |
//! | `row(...)` | TEXT, a JSON object with every declared field, lowercase, in declared order |
//! | `json` | TEXT, compact JSON |
//!
//! An element's or field's JSON form follows the same table: a string, a number (booleans as
//! `true`/`false`, times as milliseconds), an object or array, or `null`. Reading an element back
//! ([`decode_json`]) gives a JSON string as TEXT, a number as INTEGER or REAL, `true`/`false` as
//! 1/0, an object or array as its compact text, `null` as NULL, whatever the declared type: the
//! type only matters when rendering and checking, and the checker knows it.

use std::fmt;

/// A Lake (Trino) type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LakeType {
    Varchar,
    Bigint,
    Double,
    Boolean,
    Timestamp,
    TimestampTz,
    Date,
    Map,
    Array(Box<LakeType>),
    Row(Vec<(String, LakeType)>),
    Json,
    /// The type of a bare `NULL`: fits anywhere.
    Unknown,
}

impl LakeType {
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            LakeType::Bigint | LakeType::Double | LakeType::Unknown
        )
    }

    /// Whether values of the two types can be compared or mixed (Trino's implicit coercions:
    /// bigint to double, unknown to anything).
    pub fn comparable(&self, other: &LakeType) -> bool {
        use LakeType::*;
        match (self, other) {
            (Unknown, _) | (_, Unknown) => true,
            (Bigint | Double, Bigint | Double) => true,
            (Timestamp | TimestampTz, Timestamp | TimestampTz) => true,
            (Array(a), Array(b)) => a.comparable(b),
            (a, b) => a == b,
        }
    }

    /// The common supertype of two types, when there is one.
    pub fn unify(&self, other: &LakeType) -> Option<LakeType> {
        use LakeType::*;
        Some(match (self, other) {
            (Unknown, t) | (t, Unknown) => t.clone(),
            (Bigint, Double) | (Double, Bigint) => Double,
            (Timestamp, TimestampTz) | (TimestampTz, Timestamp) => TimestampTz,
            (a, b) if a == b => a.clone(),
            (Array(a), Array(b)) => Array(Box::new(a.unify(b)?)),
            _ => return None,
        })
    }

    /// A field of a row type, by case-insensitive name.
    pub fn field(&self, name: &str) -> Option<(usize, &str, &LakeType)> {
        match self {
            LakeType::Row(fields) => fields
                .iter()
                .enumerate()
                .find(|(_, (n, _))| n.eq_ignore_ascii_case(name))
                .map(|(i, (n, t))| (i, n.as_str(), t)),
            _ => None,
        }
    }
}

impl fmt::Display for LakeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LakeType::Varchar => f.write_str("varchar"),
            LakeType::Bigint => f.write_str("bigint"),
            LakeType::Double => f.write_str("double"),
            LakeType::Boolean => f.write_str("boolean"),
            LakeType::Timestamp => f.write_str("timestamp(3)"),
            LakeType::TimestampTz => f.write_str("timestamp(3) with time zone"),
            LakeType::Date => f.write_str("date"),
            LakeType::Map => f.write_str("map(varchar, varchar)"),
            LakeType::Array(t) => write!(f, "array({t})"),
            LakeType::Row(fields) => {
                f.write_str("row(")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{n} {t}")?;
                }
                f.write_str(")")
            }
            LakeType::Json => f.write_str("json"),
            LakeType::Unknown => f.write_str("unknown"),
        }
    }
}

fn row(fields: &[(&str, LakeType)]) -> LakeType {
    LakeType::Row(
        fields
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect(),
    )
}

fn varchars(names: &[&str]) -> LakeType {
    row(&names
        .iter()
        .map(|n| (*n, LakeType::Varchar))
        .collect::<Vec<_>>())
}

/// How a column is computed from a stored record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The record's top-level key of this (case-insensitive) name, converted to the type.
    Field,
    /// The record's exact text.
    Text,
    /// Hex SHA-256 of the record's text.
    Checksum,
}

/// One column of the table an event data store exposes.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    pub ty: LakeType,
    pub source: Source,
}

/// The columns of an event data store's table, in Lake's order (lake-sql.md §4).
pub fn columns() -> Vec<Column> {
    use LakeType::*;
    let session_issuer = varchars(&["type", "principalid", "arn", "accountid", "username"]);
    let session_context = row(&[
        (
            "attributes",
            row(&[("creationdate", Timestamp), ("mfaauthenticated", Varchar)]),
        ),
        ("sessionissuer", session_issuer),
        (
            "webidfederationdata",
            row(&[("federatedprovider", Varchar), ("attributes", Map)]),
        ),
        ("sourceidentity", Varchar),
        ("ec2roledelivery", Varchar),
        ("ec2issuedinvpc", Varchar),
    ]);
    let user_identity = row(&[
        ("type", Varchar),
        ("principalid", Varchar),
        ("arn", Varchar),
        ("accountid", Varchar),
        ("accesskeyid", Varchar),
        ("username", Varchar),
        ("sessioncontext", session_context),
        ("onbehalfof", varchars(&["userid", "identitystorearn"])),
        (
            "inscopeof",
            varchars(&[
                "sourcearn",
                "sourceaccount",
                "issuertype",
                "credentialsissuedto",
            ]),
        ),
        ("invokedby", Varchar),
        ("identityprovider", Varchar),
    ]);
    let field = |name, ty| Column {
        name,
        ty,
        source: Source::Field,
    };
    vec![
        field("eventversion", Varchar),
        field("useridentity", user_identity),
        field("eventtime", Timestamp),
        field("eventsource", Varchar),
        field("eventname", Varchar),
        field("awsregion", Varchar),
        field("sourceipaddress", Varchar),
        field("useragent", Varchar),
        field("errorcode", Varchar),
        field("errormessage", Varchar),
        field("requestparameters", Map),
        field("responseelements", Map),
        field("additionaleventdata", Map),
        field("requestid", Varchar),
        field("eventid", Varchar),
        field("readonly", Boolean),
        field(
            "resources",
            Array(Box::new(varchars(&[
                "accountid",
                "type",
                "arn",
                "arnprefix",
            ]))),
        ),
        field("eventtype", Varchar),
        field("apiversion", Varchar),
        field("managementevent", Boolean),
        field("recipientaccountid", Varchar),
        field("sharedeventid", Varchar),
        field("annotation", Varchar),
        field("vpcendpointid", Varchar),
        field("serviceeventdetails", Map),
        field("addendum", Map),
        field("edgedevicedetails", Map),
        field("insightdetails", Map),
        field("eventcategory", Varchar),
        field(
            "tlsdetails",
            varchars(&["tlsversion", "ciphersuite", "clientprovidedhostheader"]),
        ),
        field("sessioncredentialfromconsole", Varchar),
        Column {
            name: "eventjson",
            ty: Varchar,
            source: Source::Text,
        },
        Column {
            name: "eventjsonchecksum",
            ty: Varchar,
            source: Source::Checksum,
        },
    ]
}
