//! `trailsql sample`: writes a realistic trail archive in the real key layout,
//! deterministic for a seed, and `trailsql demo`, which makes one in a cache
//! folder and asks it the question every incident starts with.
//!
//! Two accounts, three regions, a run of days; IAM users, SSO sessions, root,
//! AWS services and service-linked roles calling a few dozen APIs in bursts of
//! activity, some of them denied. Planted on top (see README, "The sample
//! archive"): a DynamoDB table deleted from an unusual IP (after a denied
//! attempt by someone else), a burst of failed console logins, root activity,
//! instances terminated by Auto Scaling and by a person, and logging stopped
//! for some hours.

mod digests;

pub use digests::PUBLIC_KEYS_FILE;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::console::{run_sql, say, Sink};
use crate::error::{Error, Result};

/// Size and shape of a sample archive.
#[derive(Debug, Clone, clap::Args)]
pub struct SampleOptions {
    /// Seed: one seed gives one archive, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of days.
    #[arg(long, default_value_t = 61)]
    pub days: u32,
    /// First day (UTC), YYYY-MM-DD.
    #[arg(long, default_value = "2025-10-01")]
    pub start: NaiveDate,
    /// Average events per account, region and day (planted incidents come on top).
    #[arg(long, default_value_t = 120)]
    pub events_per_day: u32,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            seed: 42,
            days: 61,
            start: NaiveDate::from_ymd_opt(2025, 10, 1).expect("valid date"),
            events_per_day: 120,
        }
    }
}

/// What was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct SampleStats {
    pub events: u64,
    pub files: u64,
    pub digests: u64,
}

pub const ACCOUNTS: [&str; 2] = ["111122223333", "444455556666"];
pub const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
/// Account, region and day (index) of the planted incidents.
pub const INCIDENT_ACCOUNT: &str = "111122223333";
pub const INCIDENT_REGION: &str = "us-east-1";
pub const DELETED_TABLE: &str = "prod-orders";
pub const UNUSUAL_IP: &str = "203.0.113.77";

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
    fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| *self.pick(CHARS) as char).collect()
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }
}

/// Who calls.
#[derive(Clone)]
struct Actor {
    identity: Value,
    ips: &'static [&'static str],
    agents: &'static [&'static str],
    /// Service principal for AWS-originated calls (sourceIPAddress is its name).
    service: Option<&'static str>,
}

const CLI_AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/dynamodb.delete-table",
    "aws-cli/2.13.4 Python/3.11.4 Darwin/23.1.0 source/arm64 prompt/off",
    "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.2 Botocore/1.34.51",
];
const CONSOLE_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
];
const TF_AGENTS: &[&str] = &["APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 aws-sdk-go-v2/1.25.2"];

fn iam_user(
    acct: &str,
    name: &str,
    key: &str,
    ips: &'static [&'static str],
    agents: &'static [&'static str],
) -> Actor {
    Actor {
        identity: json!({"type":"IAMUser","principalId":format!("AIDA{}", key),"arn":format!("arn:aws:iam::{acct}:user/{name}"),
            "accountId":acct,"accessKeyId":format!("AKIA{}", key),"userName":name}),
        ips,
        agents,
        service: None,
    }
}

fn actors(acct: &str) -> Vec<(u64, Actor)> {
    let sso_role = "AWSReservedSSO_AdministratorAccess_5a1c3e9f0b2d4e6a";
    let sso = |user: &str, key: &str| Actor {
        identity: json!({"type":"AssumedRole","principalId":format!("AROA{key}:{user}"),
            "arn":format!("arn:aws:sts::{acct}:assumed-role/{sso_role}/{user}"),"accountId":acct,
            "accessKeyId":format!("ASIA{key}"),
            "sessionContext":{"sessionIssuer":{"type":"Role","principalId":format!("AROA{key}"),
                "arn":format!("arn:aws:iam::{acct}:role/aws-reserved/sso.amazonaws.com/{sso_role}"),"accountId":acct,"userName":sso_role},
                "attributes":{"creationDate":"2025-10-01T08:00:00Z","mfaAuthenticated":"false"}}}),
        ips: &["198.51.100.23", "198.51.100.24"],
        agents: CONSOLE_AGENTS,
        service: None,
    };
    vec![
        (
            30,
            iam_user(
                acct,
                "alice",
                "2ALICEEXAMPLE7Q",
                &["198.51.100.10", "198.51.100.11"],
                CLI_AGENTS,
            ),
        ),
        (
            20,
            iam_user(acct, "bob", "2BOBEXAMPLE9ZX1", &["192.0.2.15"], CLI_AGENTS),
        ),
        (
            25,
            iam_user(
                acct,
                "ci-deployer",
                "2CIDEPLOYER4W8R",
                &["198.51.100.200"],
                TF_AGENTS,
            ),
        ),
        (25, sso("jane.doe@example.com", "3JANEEXAMPLE5KD")),
        (
            10,
            Actor {
                identity: json!({"type":"AWSService","invokedBy":"config.amazonaws.com"}),
                ips: &["config.amazonaws.com"],
                agents: &["config.amazonaws.com"],
                service: Some("config.amazonaws.com"),
            },
        ),
    ]
}

fn autoscaling_role(acct: &str) -> Actor {
    Actor {
        identity: json!({"type":"AssumedRole","principalId":"AROA4AUTOSCALING7:AutoScaling",
            "arn":format!("arn:aws:sts::{acct}:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling"),
            "accountId":acct,"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA4AUTOSCALING7",
            "arn":format!("arn:aws:iam::{acct}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
            "accountId":acct,"userName":"AWSServiceRoleForAutoScaling"},"attributes":{"creationDate":"2025-10-01T00:00:00Z","mfaAuthenticated":"false"}},
            "invokedBy":"autoscaling.amazonaws.com"}),
        ips: &["autoscaling.amazonaws.com"],
        agents: &["autoscaling.amazonaws.com"],
        service: Some("autoscaling.amazonaws.com"),
    }
}

fn root(acct: &str) -> Actor {
    Actor {
        identity: json!({"type":"Root","principalId":acct,"arn":format!("arn:aws:iam::{acct}:root"),"accountId":acct,"accessKeyId":""}),
        ips: &["203.0.113.200"],
        agents: CONSOLE_AGENTS,
        service: None,
    }
}

/// The API calls of routine activity: (event source, event name, read-only, weight).
const CALLS: &[(&str, &str, bool, u64)] = &[
    ("ec2.amazonaws.com", "DescribeInstances", true, 40),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", true, 15),
    ("ec2.amazonaws.com", "RunInstances", false, 4),
    ("ec2.amazonaws.com", "CreateSnapshot", false, 3),
    (
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        false,
        2,
    ),
    ("s3.amazonaws.com", "ListBuckets", true, 20),
    ("s3.amazonaws.com", "GetBucketPolicy", true, 8),
    ("s3.amazonaws.com", "PutBucketPolicy", false, 1),
    ("s3.amazonaws.com", "CreateBucket", false, 1),
    ("iam.amazonaws.com", "ListUsers", true, 8),
    ("iam.amazonaws.com", "GetUser", true, 6),
    ("iam.amazonaws.com", "ListRoles", true, 6),
    ("iam.amazonaws.com", "CreateUser", false, 1),
    ("iam.amazonaws.com", "AttachUserPolicy", false, 1),
    ("sts.amazonaws.com", "GetCallerIdentity", true, 20),
    ("sts.amazonaws.com", "AssumeRole", false, 10),
    ("dynamodb.amazonaws.com", "DescribeTable", true, 15),
    ("dynamodb.amazonaws.com", "ListTables", true, 10),
    ("dynamodb.amazonaws.com", "CreateTable", false, 1),
    ("dynamodb.amazonaws.com", "UpdateTable", false, 2),
    ("lambda.amazonaws.com", "ListFunctions20150331", true, 8),
    ("lambda.amazonaws.com", "GetFunction20150331v2", true, 6),
    (
        "lambda.amazonaws.com",
        "UpdateFunctionCode20150331v2",
        false,
        3,
    ),
    ("kms.amazonaws.com", "Decrypt", true, 25),
    ("kms.amazonaws.com", "GenerateDataKey", true, 15),
    ("kms.amazonaws.com", "DescribeKey", true, 6),
    ("cloudtrail.amazonaws.com", "DescribeTrails", true, 4),
    ("cloudtrail.amazonaws.com", "GetTrailStatus", true, 4),
    ("rds.amazonaws.com", "DescribeDBInstances", true, 8),
    ("rds.amazonaws.com", "CreateDBSnapshot", false, 1),
    ("logs.amazonaws.com", "DescribeLogGroups", true, 8),
    ("logs.amazonaws.com", "CreateLogStream", false, 6),
    ("ssm.amazonaws.com", "GetParameter", true, 12),
    ("ssm.amazonaws.com", "GetParameters", true, 6),
    ("secretsmanager.amazonaws.com", "GetSecretValue", true, 8),
    ("monitoring.amazonaws.com", "DescribeAlarms", true, 8),
    ("monitoring.amazonaws.com", "PutMetricAlarm", false, 1),
    ("sqs.amazonaws.com", "ListQueues", true, 5),
    ("sns.amazonaws.com", "ListTopics", true, 5),
    ("config.amazonaws.com", "DescribeConfigRules", true, 4),
    (
        "autoscaling.amazonaws.com",
        "DescribeAutoScalingGroups",
        true,
        6,
    ),
    ("ecr.amazonaws.com", "GetAuthorizationToken", true, 6),
    ("eks.amazonaws.com", "ListClusters", true, 3),
    (
        "elasticloadbalancing.amazonaws.com",
        "DescribeLoadBalancers",
        true,
        5,
    ),
    ("route53.amazonaws.com", "ListHostedZones", true, 3),
    ("cloudformation.amazonaws.com", "DescribeStacks", true, 6),
];

const TABLES: &[&str] = &["prod-orders", "prod-customers", "sessions", "audit-events"];

fn instance_id(rng: &mut Rng) -> String {
    format!("i-0{}", rng.hex(16))
}

/// requestParameters and responseElements for a call.
fn call_details(rng: &mut Rng, acct: &str, region: &str, name: &str) -> (Value, Value) {
    match name {
        "DescribeInstances" => (json!({"instancesSet":{},"filterSet":{}}), Value::Null),
        "DescribeSecurityGroups" => (
            json!({"securityGroupSet":{},"securityGroupIdSet":{},"filterSet":{}}),
            Value::Null,
        ),
        "RunInstances" => {
            let id = instance_id(rng);
            (
                json!({"instancesSet":{"items":[{"imageId":format!("ami-0{}", rng.hex(16)),"minCount":1,"maxCount":1}]},
                       "instanceType":rng.pick(&["t3.micro","m6i.large","c7g.xlarge"]),"monitoring":{"enabled":false}}),
                json!({"requestId":rng.uuid(),"reservationId":format!("r-0{}", rng.hex(16)),"ownerId":acct,
                       "instancesSet":{"items":[{"instanceId":id,"currentState":{"code":0,"name":"pending"}}]}}),
            )
        }
        "CreateSnapshot" => {
            let vol = format!("vol-0{}", rng.hex(16));
            (
                json!({"volumeId":vol}),
                json!({"snapshotId":format!("snap-0{}", rng.hex(16)),"volumeId":vol,"status":"pending"}),
            )
        }
        "AuthorizeSecurityGroupIngress" => (
            json!({"groupId":format!("sg-0{}", rng.hex(16)),"ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,
                   "ipRanges":{"items":[{"cidrIp":"10.0.0.0/16"}]}}]}}),
            json!({"_return":true}),
        ),
        "GetBucketPolicy" | "PutBucketPolicy" | "CreateBucket" => (
            json!({"bucketName":format!("{}-{}-data", acct, rng.pick(&["logs","assets","backups"])),"Host":"s3.amazonaws.com"}),
            Value::Null,
        ),
        "ListBuckets" => (json!({"Host":"s3.amazonaws.com"}), Value::Null),
        "GetUser" | "CreateUser" => {
            let user = format!("svc-{}", rng.pick(&["reports", "etl", "backup"]));
            let resp = if name == "CreateUser" {
                json!({"user":{"userName":user,"userId":format!("AIDA{}", rng.alnum(17).to_uppercase()),"arn":format!("arn:aws:iam::{acct}:user/{user}"),"path":"/"}})
            } else {
                Value::Null
            };
            (json!({"userName":user}), resp)
        }
        "AttachUserPolicy" => (
            json!({"userName":"svc-reports","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}),
            Value::Null,
        ),
        "AssumeRole" => {
            let role = rng.pick(&["deploy", "readonly", "break-glass"]);
            (
                json!({"roleArn":format!("arn:aws:iam::{acct}:role/{role}"),"roleSessionName":format!("session-{}", rng.below(10000)),"durationSeconds":3600}),
                json!({"credentials":{"accessKeyId":format!("ASIA{}", rng.alnum(16).to_uppercase()),"expiration":"Oct 1, 2025, 12:00:00 PM","sessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS"},
                       "assumedRoleUser":{"assumedRoleId":format!("AROA{}:session", rng.alnum(16).to_uppercase()),"arn":format!("arn:aws:sts::{acct}:assumed-role/{role}/session")}}),
            )
        }
        "DescribeTable" | "UpdateTable" | "CreateTable" => {
            let t = *rng.pick(TABLES);
            let resp = if name == "DescribeTable" {
                Value::Null
            } else {
                json!({"tableDescription":{"tableName":t,"tableStatus":if name == "CreateTable" {"CREATING"} else {"UPDATING"},
                       "tableArn":format!("arn:aws:dynamodb:{region}:{acct}:table/{t}")}})
            };
            (json!({"tableName":t}), resp)
        }
        "UpdateFunctionCode20150331v2" | "GetFunction20150331v2" => (
            json!({"functionName":rng.pick(&["thumbnailer","billing-export","slack-notify"])}),
            Value::Null,
        ),
        "Decrypt" | "GenerateDataKey" | "DescribeKey" => (
            json!({"keyId":format!("arn:aws:kms:{region}:{acct}:key/{}", rng.uuid()),"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}),
            Value::Null,
        ),
        "GetParameter" => (
            json!({"name":format!("/app/{}", rng.pick(&["db-host","feature-flags","api-url"])),"withDecryption":true}),
            Value::Null,
        ),
        "GetSecretValue" => (
            json!({"secretId":format!("prod/{}", rng.pick(&["db","stripe","github"]))}),
            Value::Null,
        ),
        "CreateLogStream" => (
            json!({"logGroupName":"/aws/lambda/thumbnailer","logStreamName":format!("2025/10/01/[$LATEST]{}", rng.hex(32))}),
            Value::Null,
        ),
        "PutMetricAlarm" => (
            json!({"alarmName":"HighErrorRate","metricName":"Errors","namespace":"AWS/Lambda","threshold":5.0}),
            Value::Null,
        ),
        "CreateDBSnapshot" => (
            json!({"dBInstanceIdentifier":"prod-db","dBSnapshotIdentifier":format!("manual-{}", rng.below(1000))}),
            Value::Null,
        ),
        _ => (Value::Null, Value::Null),
    }
}

/// One event record.
struct Event {
    time: DateTime<Utc>,
    record: Value,
}

#[allow(clippy::too_many_arguments)]
fn event(
    rng: &mut Rng,
    actor: &Actor,
    acct: &str,
    region: &str,
    time: DateTime<Utc>,
    source: &str,
    name: &str,
    read_only: bool,
    params: Value,
    response: Value,
    error: Option<(&str, &str)>,
) -> Event {
    let ip = *rng.pick(actor.ips);
    let agent = *rng.pick(actor.agents);
    let mut r = json!({
        "eventVersion": "1.09",
        "userIdentity": actor.identity,
        "eventTime": time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": params,
        "responseElements": if error.is_some() { Value::Null } else { response },
        "requestID": rng.uuid(),
        "eventID": rng.uuid(),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": acct,
        "eventCategory": "Management",
    });
    let obj = r.as_object_mut().expect("object literal");
    if let Some((code, message)) = error {
        obj.insert("errorCode".into(), json!(code));
        obj.insert("errorMessage".into(), json!(message));
    }
    if actor.service.is_none() {
        obj.insert(
            "tlsDetails".into(),
            json!({"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":format!("{}.{region}.amazonaws.com", source.trim_end_matches(".amazonaws.com"))}),
        );
    }
    if name.starts_with("Terminate") || name == "RunInstances" || name == "DeleteTable" {
        let id = params
            .pointer("/instancesSet/items/0/instanceId")
            .or_else(|| params.get("tableName"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(id) = id {
            let (arn, ty) = if name == "DeleteTable" {
                (
                    format!("arn:aws:dynamodb:{region}:{acct}:table/{id}"),
                    "AWS::DynamoDB::Table",
                )
            } else {
                (
                    format!("arn:aws:ec2:{region}:{acct}:instance/{id}"),
                    "AWS::EC2::Instance",
                )
            };
            obj.insert(
                "resources".into(),
                json!([{"accountId":acct,"type":ty,"ARN":arn}]),
            );
        }
    }
    Event { time, record: r }
}

fn console_login(
    rng: &mut Rng,
    actor: &Actor,
    acct: &str,
    time: DateTime<Utc>,
    ip: &str,
    ok: bool,
    mfa: bool,
) -> Event {
    let mut e = event(
        rng,
        actor,
        acct,
        "us-east-1",
        time,
        "signin.amazonaws.com",
        "ConsoleLogin",
        false,
        Value::Null,
        json!({"ConsoleLogin": if ok {"Success"} else {"Failure"}}),
        None,
    );
    let obj = e.record.as_object_mut().expect("object");
    obj.insert("sourceIPAddress".into(), json!(ip));
    obj.insert("eventType".into(), json!("AwsConsoleSignIn"));
    obj.insert("additionalEventData".into(), json!({"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":if mfa {"Yes"} else {"No"}}));
    obj.remove("readOnly");
    if !ok {
        obj.insert("errorMessage".into(), json!("Failed authentication"));
    }
    e
}

/// The routine activity of one account, region and day.
fn routine(
    rng: &mut Rng,
    acct: &str,
    region: &str,
    day: NaiveDate,
    target: u32,
    out: &mut Vec<Event>,
) {
    let people = actors(acct);
    let total_weight: u64 = CALLS.iter().map(|c| c.3).sum();
    let actor_weight: u64 = people.iter().map(|a| a.0).sum();
    let mut made = 0;
    while made < target {
        // A burst of work: one actor, a few minutes, several calls.
        let mut w = rng.below(actor_weight);
        let actor = &people
            .iter()
            .find(|(aw, _)| {
                let hit = w < *aw;
                if !hit {
                    w -= aw;
                }
                hit
            })
            .expect("weights")
            .1;
        let hour = if rng.chance(80) {
            7 + rng.below(12)
        } else {
            rng.below(24)
        };
        let mut t = day
            .and_hms_opt(hour as u32, rng.below(60) as u32, rng.below(60) as u32)
            .expect("valid")
            .and_utc();
        let burst = (3 + rng.below(12)) as u32;
        for _ in 0..burst.min(target - made) {
            let mut pick = rng.below(total_weight);
            let &(source, name, ro, _) = CALLS
                .iter()
                .find(|c| {
                    let hit = pick < c.3;
                    if !hit {
                        pick -= c.3;
                    }
                    hit
                })
                .expect("weights");
            let (params, response) = call_details(rng, acct, region, name);
            let denied = !ro && actor.service.is_none() && rng.chance(8);
            let error = denied.then(|| {
                if source == "ec2.amazonaws.com" {
                    (
                        "Client.UnauthorizedOperation",
                        "You are not authorized to perform this operation.",
                    )
                } else {
                    (
                        "AccessDenied",
                        "User is not authorized to perform this action",
                    )
                }
            });
            out.push(event(
                rng, actor, acct, region, t, source, name, ro, params, response, error,
            ));
            t += Duration::seconds(1 + rng.below(40) as i64);
            made += 1;
        }
    }
}

/// The planted incidents, all in INCIDENT_ACCOUNT / INCIDENT_REGION unless said.
fn incidents(
    rng: &mut Rng,
    start: NaiveDate,
    days: u32,
    out: &mut Vec<Event>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let acct = INCIDENT_ACCOUNT;
    let region = INCIDENT_REGION;
    let people = actors(acct);
    let alice = &people[0].1;
    let bob = &people[1].1;
    let jane = &people[3].1;
    let at = |d: u32, h: u32, m: u32, s: u32| {
        (start + Duration::days((d.min(days.saturating_sub(1))) as i64))
            .and_hms_opt(h, m, s)
            .expect("valid")
            .and_utc()
    };
    // Auto Scaling scales in (not a person) on day 8; bob terminates one by hand on day 9.
    for k in 0..2 {
        let id = instance_id(rng);
        out.push(event(rng, &autoscaling_role(acct), acct, region, at(7, 4, 10 + k, 3), "ec2.amazonaws.com", "TerminateInstances", false,
            json!({"instancesSet":{"items":[{"instanceId":id}]}}),
            json!({"instancesSet":{"items":[{"instanceId":id,"currentState":{"code":32,"name":"shutting-down"},"previousState":{"code":16,"name":"running"}}]}}), None));
    }
    let id = instance_id(rng);
    out.push(event(rng, bob, acct, region, at(8, 15, 42, 9), "ec2.amazonaws.com", "TerminateInstances", false,
        json!({"instancesSet":{"items":[{"instanceId":id}]}}),
        json!({"instancesSet":{"items":[{"instanceId":id,"currentState":{"code":32,"name":"shutting-down"},"previousState":{"code":16,"name":"running"}}]}}), None));
    // Burst of failed console logins for carol on day 12: 8 failures in under a minute.
    let carol = iam_user(
        acct,
        "carol",
        "2CAROLEXAMPLE3M",
        &["192.0.2.44"],
        CONSOLE_AGENTS,
    );
    for k in 0..8 {
        out.push(console_login(
            rng,
            &carol,
            acct,
            at(11, 2, 17, 5 + k * 6),
            "192.0.2.44",
            false,
            false,
        ));
    }
    // Four failures spread over ten minutes (a near miss), then a success with MFA.
    for k in 0..4 {
        out.push(console_login(
            rng,
            alice,
            acct,
            at(11, 9, 0, 0) + Duration::seconds(150 * k),
            "198.51.100.10",
            false,
            false,
        ));
    }
    out.push(console_login(
        rng,
        alice,
        acct,
        at(11, 9, 11, 0),
        "198.51.100.10",
        true,
        true,
    ));
    // Bob tries to delete the table and is denied; alice deletes it from an unusual IP.
    out.push(event(rng, bob, acct, region, at(19, 3, 2, 41), "dynamodb.amazonaws.com", "DeleteTable", false,
        json!({"tableName":DELETED_TABLE}), Value::Null,
        Some(("AccessDeniedException", "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: dynamodb:DeleteTable"))));
    let stranger = Actor {
        ips: &[UNUSUAL_IP],
        ..alice.clone()
    };
    out.push(event(
        rng,
        &stranger,
        acct,
        region,
        at(19, 3, 14, 7),
        "dynamodb.amazonaws.com",
        "DeleteTable",
        false,
        json!({"tableName":DELETED_TABLE}),
        json!({"tableDescription":{"tableName":DELETED_TABLE,"tableStatus":"DELETING","itemCount":0,
               "tableArn":format!("arn:aws:dynamodb:{region}:{acct}:table/{DELETED_TABLE}")}}),
        None,
    ));
    // Root signs in without MFA and creates an access key, day 25.
    let r = root(acct);
    out.push(console_login(
        rng,
        &r,
        acct,
        at(24, 21, 3, 0),
        "203.0.113.200",
        true,
        false,
    ));
    out.push(event(rng, &r, acct, "us-east-1", at(24, 21, 5, 12), "iam.amazonaws.com", "CreateAccessKey", false,
        json!({}), json!({"accessKey":{"accessKeyId":"AKIA2ROOTKEYEXAMPL","status":"Active","userName":"root"}}), None));
    // jane stops the trail on day 27 at 22:05; logging resumes at 06:00 next day.
    let stop = at(26, 22, 5, 31);
    let resume = at(27, 6, 0, 12);
    let trail = format!("arn:aws:cloudtrail:{region}:{acct}:trail/org-trail");
    out.push(event(
        rng,
        jane,
        acct,
        region,
        stop,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        false,
        json!({"name":trail}),
        Value::Null,
        None,
    ));
    out.push(event(
        rng,
        jane,
        acct,
        region,
        resume,
        "cloudtrail.amazonaws.com",
        "StartLogging",
        false,
        json!({"name":trail}),
        Value::Null,
        None,
    ));
    Some((stop, resume))
}

/// Write a log file; the SHA-256 of its uncompressed bytes, for its digest.
fn write_gz(path: &Path, records: &[&Value]) -> Result<String> {
    let body = serde_json::to_vec(&json!({ "Records": records }))
        .map_err(|e| Error::Usage(e.to_string()))?;
    write_gz_bytes(path, &body)?;
    Ok(crate::verify::sha256_hex(&body))
}

fn write_gz_bytes(path: &Path, body: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::new(6));
    gz.write_all(body).map_err(|e| Error::io(path, e))?;
    gz.finish()
        .and_then(|mut w| w.flush())
        .map_err(|e| Error::io(path, e))
}

/// Write the archive under `dir/AWSLogs/...`.
pub fn write_archive(dir: &Path, opts: &SampleOptions) -> Result<SampleStats> {
    let mut rng = Rng(opts.seed);
    let mut planted = Vec::new();
    let gap = incidents(&mut rng, opts.start, opts.days.max(1), &mut planted);
    let mut stats = SampleStats::default();
    let mut delivered: std::collections::BTreeMap<(&str, &str), Vec<digests::Delivered>> =
        std::collections::BTreeMap::new();
    for d in 0..opts.days {
        let day = opts.start + Duration::days(d as i64);
        for acct in ACCOUNTS {
            for region in REGIONS {
                let mut events = Vec::new();
                let target =
                    opts.events_per_day / 2 + rng.below(opts.events_per_day as u64 + 1) as u32;
                routine(&mut rng, acct, region, day, target, &mut events);
                events.extend(planted.extract_if(.., |e| {
                    e.time.date_naive() == day
                        && e.record["recipientAccountId"] == acct
                        && e.record["awsRegion"] == region
                }));
                if acct == INCIDENT_ACCOUNT && region == INCIDENT_REGION {
                    if let Some((stop, resume)) = gap {
                        // Nothing is logged while the trail is stopped.
                        events.retain(|e| e.time <= stop || e.time >= resume);
                    }
                }
                events.sort_by_key(|e| e.time);
                let files = delivered.entry((acct, region)).or_default();
                stats.events += write_day(dir, &mut rng, acct, region, &events, files)?;
            }
        }
    }
    // Hourly digests over the whole archive, and the key to check them.
    let key = digests::SampleKey::load()?;
    let from = opts.start.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    // Files of the last evening are delivered after midnight: one more hour.
    let to = from + Duration::days(opts.days as i64) + Duration::hours(1);
    for ((acct, region), files) in &delivered {
        stats.files += files.len() as u64;
        let stopped = gap.filter(|_| *acct == INCIDENT_ACCOUNT && *region == INCIDENT_REGION);
        stats.digests += digests::write_chain(dir, &key, acct, region, files, from, to, stopped)?;
    }
    let keys = dir.join(digests::PUBLIC_KEYS_FILE);
    std::fs::write(&keys, key.public_keys_json(from, to)).map_err(|e| Error::io(&keys, e))?;
    Ok(stats)
}

/// Group a day's events into 5-minute log files, each delivered a few minutes
/// after its window closes (so late-evening events land in the next day's folder).
fn write_day(
    dir: &Path,
    rng: &mut Rng,
    acct: &str,
    region: &str,
    events: &[Event],
    files: &mut Vec<digests::Delivered>,
) -> Result<u64> {
    let mut written = 0;
    let mut i = 0;
    while i < events.len() {
        let window = events[i].time.timestamp() / 300;
        let mut j = i;
        while j < events.len() && events[j].time.timestamp() / 300 == window {
            j += 1;
        }
        let delivered =
            DateTime::from_timestamp((window + 1) * 300 + 60 + rng.below(540) as i64, 0)
                .expect("valid time");
        let name = format!(
            "{acct}_CloudTrail_{region}_{}_{}.json.gz",
            delivered.format("%Y%m%dT%H%MZ"),
            rng.alnum(16)
        );
        let key = format!(
            "AWSLogs/{acct}/CloudTrail/{region}/{}/{name}",
            delivered.format("%Y/%m/%d")
        );
        let records: Vec<&Value> = events[i..j].iter().map(|e| &e.record).collect();
        let sha256 = write_gz(&dir.join(&key), &records)?;
        files.push(digests::Delivered {
            key,
            delivered,
            sha256,
            oldest: events[i].time,
            newest: events[j - 1].time,
        });
        written += (j - i) as u64;
        i = j;
    }
    Ok(written)
}

/// The question the demo answers.
pub const DEMO_QUESTION: &str =
    "SELECT eventtime, useridentity.username AS who, sourceipaddress AS ip, \
json_extract_scalar(requestparameters, '$.tableName') AS table_name, errorcode \
FROM cloudtrail WHERE eventname = 'DeleteTable' ORDER BY eventtime";

fn cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(x).join("trailsql");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache").join("trailsql"),
        None => std::env::temp_dir().join("trailsql"),
    }
}

/// What the demo's cached archive holds; a cache marked otherwise is
/// written again.
const SAMPLE_FORMAT: &str = "trailsql sample archive 2 (log files, signed digests)";

/// `trailsql demo`.
pub async fn demo(dir: Option<PathBuf>, sink: &Sink) -> Result<i32> {
    let dir = dir.unwrap_or_else(|| cache_dir().join("sample-archive"));
    let done = dir.join(".complete");
    // A sample written by an older trailsql (without digest files, say) is
    // written again.
    let current = std::fs::read_to_string(&done).is_ok_and(|t| t.starts_with(SAMPLE_FORMAT));
    if !current {
        eprintln!(
            "trailsql: writing the sample archive to {} ...",
            dir.display()
        );
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let stats = write_archive(&dir, &SampleOptions::default())?;
        std::fs::write(
            &done,
            format!(
                "{SAMPLE_FORMAT}: {} events in {} files\n",
                stats.events, stats.files
            ),
        )
        .map_err(|e| Error::io(&done, e))?;
        eprintln!(
            "trailsql: {} events in {} log files",
            stats.events, stats.files
        );
    }
    let engine = crate::session::Engine::new(crate::table::ReadOptions::default());
    engine
        .register_source(crate::session::DEFAULT_TABLE, &dir.display().to_string())
        .await?;
    say(&format!(
        "Who deleted the DynamoDB table, when, and from which IP?\n\n{DEMO_QUESTION};\n\n"
    ))?;
    run_sql(&engine, sink, DEMO_QUESTION).await?;
    say(&format!(
        "\nOpen the shell on this archive:\n  trailsql --source {0}\n\
         Run the saved compliance and forensic queries:\n  trailsql --source {0} run --all\n\
         Check that no log file was changed or removed:\n  trailsql verify {0}\n\
         Convert it to Parquet, then query that:\n  trailsql convert {0} {1}\n  \
         trailsql --source {1}\n",
        dir.display(),
        dir.with_file_name("sample-parquet").display()
    ))?;
    Ok(0)
}
