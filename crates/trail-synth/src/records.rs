//! Record templates: the shapes of real CloudTrail events, with random values.

use chrono::NaiveDateTime;
use rand::rngs::SmallRng;
use rand::Rng;
use std::fmt::Write;

/// Mean size of a generated record in bytes, used to plan the bucket's size.
pub const MEAN_BYTES: u64 = 1500;

const USERS: [&str; 6] = [
    "alice",
    "bob",
    "deploy-bot",
    "ci-runner",
    "admin",
    "terraform",
];
const AGENTS: [&str; 5] = [
    "aws-cli/2.17.60 md/awscrt#0.22.0 ua/2.0 os/linux#6.8 md/arch#x86_64 lang/python#3.12.6",
    "Boto3/1.35.24 md/Botocore#1.35.24 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.9",
    "aws-sdk-go-v2/1.30.4 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.177.0",
    "console.amazonaws.com",
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]",
];

fn hex(rng: &mut SmallRng, n: usize) -> String {
    const H: &[u8] = b"0123456789abcdef";
    (0..n).map(|_| H[rng.random_range(0..16)] as char).collect()
}

fn uuid(rng: &mut SmallRng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// Appends one record (a JSON object) to `out`.
pub fn write_record(
    out: &mut String,
    rng: &mut SmallRng,
    account: &str,
    region: &str,
    at: NaiveDateTime,
) {
    let user = USERS[rng.random_range(0..USERS.len())];
    let agent = AGENTS[rng.random_range(0..AGENTS.len())];
    let ip = format!(
        "{}.{}.{}.{}",
        rng.random_range(1..223),
        rng.random_range(0..255),
        rng.random_range(0..255),
        rng.random_range(1..255)
    );
    let time = at.format("%Y-%m-%dT%H:%M:%SZ");
    let (source, name, read_only, category, params, response) = match rng.random_range(0..10) {
        0 | 1 => {
            let n = rng.random_range(0..12);
            let items: Vec<String> = (0..n).map(|_| format!("{{\"instanceId\":\"i-{}\"}}", hex(rng, 17))).collect();
            ("ec2.amazonaws.com", "DescribeInstances", true, "Management",
             format!("{{\"instancesSet\":{{\"items\":[{}]}},\"filterSet\":{{}}}}", items.join(",")), "null".to_string())
        }
        2 | 3 => {
            let key = format!("data/{}/part-{}.parquet", hex(rng, 8), rng.random_range(0..10000));
            ("s3.amazonaws.com", "GetObject", true, "Data",
             format!("{{\"bucketName\":\"analytics-{account}\",\"Host\":\"analytics-{account}.s3.{region}.amazonaws.com\",\"key\":\"{key}\"}}"),
             "null".to_string())
        }
        4 => {
            let token_len = 40 + rng.random_range(0..200);
            let role = format!("arn:aws:iam::{account}:role/service-role-{}", hex(rng, 6));
            ("sts.amazonaws.com", "AssumeRole", true, "Management",
             format!("{{\"roleArn\":\"{role}\",\"roleSessionName\":\"{user}-{}\",\"durationSeconds\":3600}}", rng.random_range(1000..9999)),
             format!("{{\"credentials\":{{\"accessKeyId\":\"ASIA{}\",\"sessionToken\":\"{}\",\"expiration\":\"Mar 1, 2024, 1:00:00 PM\"}},\"assumedRoleUser\":{{\"assumedRoleId\":\"AROA{}:{user}\",\"arn\":\"{role}\"}}}}",
                 hex(rng, 16).to_uppercase(), hex(rng, token_len), hex(rng, 17).to_uppercase()))
        }
        5 => ("kms.amazonaws.com", "Decrypt", true, "Management",
              format!("{{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":{{\"aws:s3:arn\":\"arn:aws:s3:::logs-{account}/AWSLogs/{account}/{}\"}}}}", hex(rng, 24)),
              "null".to_string()),
        6 => ("lambda.amazonaws.com", "Invoke", false, "Data",
              format!("{{\"functionName\":\"arn:aws:lambda:{region}:{account}:function:handler-{}\",\"invocationType\":\"Event\"}}", hex(rng, 6)),
              "null".to_string()),
        7 => {
            let doc = "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":\\\"s3:GetObject\\\",\\\"Resource\\\":\\\"*\\\"}]}";
            ("iam.amazonaws.com", "PutRolePolicy", false, "Management",
             format!("{{\"roleName\":\"app-{}\",\"policyName\":\"inline-{}\",\"policyDocument\":\"{doc}\"}}", hex(rng, 6), hex(rng, 4)),
             "null".to_string())
        }
        8 => ("logs.amazonaws.com", "CreateLogStream", false, "Management",
              format!("{{\"logGroupName\":\"/aws/lambda/handler-{}\",\"logStreamName\":\"2024/03/01/[$LATEST]{}\"}}", hex(rng, 6), hex(rng, 32)),
              "null".to_string()),
        _ => ("dynamodb.amazonaws.com", "DescribeTable", true, "Management",
              format!("{{\"tableName\":\"orders-{}\"}}", hex(rng, 4)), "null".to_string()),
    };
    let error = if rng.random_range(0..25) == 0 {
        ",\"errorCode\":\"AccessDenied\",\"errorMessage\":\"User is not authorized to perform this operation\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "{{\"eventVersion\":\"1.{:02}\",\"userIdentity\":{{\"type\":\"AssumedRole\",\"principalId\":\"AROA{}:{user}\",\"arn\":\"arn:aws:sts::{account}:assumed-role/{user}-role/{user}\",\"accountId\":\"{account}\",\"accessKeyId\":\"ASIA{}\",\"sessionContext\":{{\"sessionIssuer\":{{\"type\":\"Role\",\"principalId\":\"AROA{}\",\"arn\":\"arn:aws:iam::{account}:role/{user}-role\",\"accountId\":\"{account}\",\"userName\":\"{user}-role\"}},\"webIdFederationData\":{{}},\"attributes\":{{\"creationDate\":\"{time}\",\"mfaAuthenticated\":\"false\"}}}}}},\"eventTime\":\"{time}\",\"eventSource\":\"{source}\",\"eventName\":\"{name}\",\"awsRegion\":\"{region}\",\"sourceIPAddress\":\"{ip}\",\"userAgent\":\"{agent}\"{error},\"requestParameters\":{params},\"responseElements\":{response},\"requestID\":\"{}\",\"eventID\":\"{}\",\"readOnly\":{read_only},\"eventType\":\"AwsApiCall\",\"managementEvent\":{},\"recipientAccountId\":\"{account}\",\"eventCategory\":\"{category}\",\"tlsDetails\":{{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"{}.{region}.amazonaws.com\"}}}}",
        rng.random_range(5..12),
        hex(rng, 17).to_uppercase(),
        hex(rng, 16).to_uppercase(),
        hex(rng, 17).to_uppercase(),
        uuid(rng),
        uuid(rng),
        category == "Management",
        source.trim_end_matches(".amazonaws.com"),
    );
}
