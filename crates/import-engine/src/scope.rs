//! Who an operation acts for (an account in a Region), ARN partitions, and event data store
//! ARNs.

/// The account and Region an operation acts for: every resource belongs to one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }

    /// The partition of the scope's Region.
    pub fn partition(&self) -> &'static str {
        partition_of(&self.region)
    }

    /// The ARN of the event data store `id` in this scope.
    pub fn eds_arn(&self, id: &str) -> String {
        format!("{}{id}", self.eds_arn_prefix())
    }

    /// What every event data store ARN of this scope starts with.
    pub fn eds_arn_prefix(&self) -> String {
        format!(
            "arn:{}:cloudtrail:{}:{}:eventdatastore/",
            self.partition(),
            self.region,
            self.account
        )
    }
}

/// Every partition an ARN may name.
pub const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// The partition a Region belongs to, as the AWS SDKs resolve it (their `partitions.json`):
/// `cn-*` is `aws-cn`, `us-gov-*` `aws-us-gov`, the isolated Regions their own, anything else
/// `aws`.
pub fn partition_of(region: &str) -> &'static str {
    const BY_PREFIX: [(&str, &str); 7] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    ];
    BY_PREFIX
        .iter()
        .find(|(p, _)| region.starts_with(p))
        .map_or("aws", |(_, partition)| partition)
}

/// The parts of an `arn:PARTITION:cloudtrail:REGION:ACCOUNT:TYPE/ID` ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudTrailArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// `eventdatastore`, `trail`, `channel`, `dashboard`...
    pub resource_type: &'a str,
    pub id: &'a str,
}

impl<'a> CloudTrailArn<'a> {
    /// Parses a CloudTrail ARN with a known partition and a 12-digit account.
    pub fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (arn_kw, partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let (resource_type, id) = resource.split_once('/')?;
        let ok = arn_kw == "arn"
            && PARTITIONS.contains(&partition)
            && service == "cloudtrail"
            && !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !resource_type.is_empty()
            && !id.is_empty();
        ok.then_some(CloudTrailArn {
            partition,
            region,
            account,
            resource_type,
            id,
        })
    }
}

/// Whether `s` can be the ID part of an event data store ARN.
pub(crate) fn is_eds_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
