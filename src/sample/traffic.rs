//! The sample's routine traffic: who calls (IAM users, SSO sessions, root,
//! AWS services and service-linked roles, a read-only scanner, application
//! instances), each the APIs its kind of principal calls (engineers read
//! and change a little, the pipeline deploys, the administrator manages
//! IAM, services and the scanner only read, instances read their
//! configuration and secrets), with which parameters, in bursts over each
//! day, some of them denied; and the instances' agents checking in every
//! hour, so that every hour of a trail has files, as in a real account.
//!
//! It imports nothing of trailsql outside `sample/`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use super::Rng;

/// Who calls.
#[derive(Clone)]
pub(super) struct Actor {
    pub identity: Value,
    pub ips: &'static [&'static str],
    pub agents: &'static [&'static str],
    /// Service principal for AWS-originated calls (sourceIPAddress is its name).
    pub service: Option<&'static str>,
}

const CLI_AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/dynamodb.delete-table",
    "aws-cli/2.13.4 Python/3.11.4 Darwin/23.1.0 source/arm64 prompt/off",
    "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.2 Botocore/1.34.51",
];
pub(super) const CONSOLE_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
];
const TF_AGENTS: &[&str] = &["APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 aws-sdk-go-v2/1.25.2"];

pub(super) fn iam_user(
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

/// One API call routine activity makes: (event source, event name,
/// read-only, weight).
type Call = (&'static str, &'static str, bool, u64);

/// What one kind of principal does: its calls, and how often (percent)
/// its reads and its changes are denied.
pub(super) struct Profile {
    calls: &'static [Call],
    denied_reads: u64,
    denied_writes: u64,
}

/// Engineers: mostly looking, some changes by hand.
const ENGINEER: Profile = Profile {
    calls: &[
        ("ec2.amazonaws.com", "DescribeInstances", true, 40),
        ("ec2.amazonaws.com", "DescribeSecurityGroups", true, 15),
        ("ec2.amazonaws.com", "RunInstances", false, 2),
        ("ec2.amazonaws.com", "CreateSnapshot", false, 2),
        ("s3.amazonaws.com", "ListBuckets", true, 20),
        ("s3.amazonaws.com", "GetBucketPolicy", true, 8),
        ("iam.amazonaws.com", "GetUser", true, 4),
        ("sts.amazonaws.com", "GetCallerIdentity", true, 20),
        ("sts.amazonaws.com", "AssumeRole", false, 10),
        ("dynamodb.amazonaws.com", "DescribeTable", true, 15),
        ("dynamodb.amazonaws.com", "ListTables", true, 10),
        ("dynamodb.amazonaws.com", "UpdateTable", false, 2),
        ("lambda.amazonaws.com", "ListFunctions20150331", true, 8),
        ("lambda.amazonaws.com", "GetFunction20150331v2", true, 6),
        ("kms.amazonaws.com", "Decrypt", true, 10),
        ("kms.amazonaws.com", "DescribeKey", true, 6),
        ("cloudtrail.amazonaws.com", "DescribeTrails", true, 2),
        ("rds.amazonaws.com", "DescribeDBInstances", true, 8),
        ("rds.amazonaws.com", "CreateDBSnapshot", false, 1),
        ("logs.amazonaws.com", "DescribeLogGroups", true, 8),
        ("ssm.amazonaws.com", "GetParameter", true, 8),
        ("secretsmanager.amazonaws.com", "GetSecretValue", true, 4),
        ("monitoring.amazonaws.com", "DescribeAlarms", true, 6),
        ("sqs.amazonaws.com", "ListQueues", true, 5),
        ("sns.amazonaws.com", "ListTopics", true, 5),
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
    ],
    denied_reads: 0,
    denied_writes: 3,
};

/// The deployment pipeline (Terraform): reads the state, then changes.
const PIPELINE: Profile = Profile {
    calls: &[
        ("ec2.amazonaws.com", "DescribeInstances", true, 20),
        ("ec2.amazonaws.com", "DescribeSecurityGroups", true, 15),
        ("ec2.amazonaws.com", "RunInstances", false, 3),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            false,
            3,
        ),
        ("s3.amazonaws.com", "GetBucketPolicy", true, 8),
        ("s3.amazonaws.com", "PutBucketPolicy", false, 2),
        ("s3.amazonaws.com", "CreateBucket", false, 1),
        ("iam.amazonaws.com", "GetUser", true, 4),
        ("iam.amazonaws.com", "ListRoles", true, 4),
        ("iam.amazonaws.com", "AttachUserPolicy", false, 1),
        ("sts.amazonaws.com", "GetCallerIdentity", true, 10),
        ("dynamodb.amazonaws.com", "DescribeTable", true, 8),
        ("dynamodb.amazonaws.com", "CreateTable", false, 1),
        ("dynamodb.amazonaws.com", "UpdateTable", false, 2),
        ("lambda.amazonaws.com", "GetFunction20150331v2", true, 10),
        (
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
            false,
            6,
        ),
        ("kms.amazonaws.com", "DescribeKey", true, 4),
        ("logs.amazonaws.com", "DescribeLogGroups", true, 6),
        ("monitoring.amazonaws.com", "DescribeAlarms", true, 4),
        ("monitoring.amazonaws.com", "PutMetricAlarm", false, 2),
    ],
    denied_reads: 0,
    denied_writes: 3,
};

/// The administrator, in the console: IAM and a look around.
const ADMIN: Profile = Profile {
    calls: &[
        ("iam.amazonaws.com", "ListUsers", true, 8),
        ("iam.amazonaws.com", "GetUser", true, 6),
        ("iam.amazonaws.com", "ListRoles", true, 6),
        ("iam.amazonaws.com", "AttachUserPolicy", false, 1),
        ("ec2.amazonaws.com", "DescribeInstances", true, 10),
        (
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            false,
            1,
        ),
        ("s3.amazonaws.com", "ListBuckets", true, 10),
        ("cloudtrail.amazonaws.com", "DescribeTrails", true, 4),
        ("cloudtrail.amazonaws.com", "GetTrailStatus", true, 4),
        ("config.amazonaws.com", "DescribeConfigRules", true, 4),
        ("monitoring.amazonaws.com", "DescribeAlarms", true, 4),
        ("rds.amazonaws.com", "DescribeDBInstances", true, 4),
        ("rds.amazonaws.com", "CreateDBSnapshot", false, 1),
    ],
    denied_reads: 0,
    denied_writes: 3,
};

/// AWS Config recording: reads of what it records.
const RECORDER: Profile = Profile {
    calls: &[
        ("ec2.amazonaws.com", "DescribeInstances", true, 10),
        ("ec2.amazonaws.com", "DescribeSecurityGroups", true, 10),
        ("s3.amazonaws.com", "GetBucketPolicy", true, 6),
        ("s3.amazonaws.com", "ListBuckets", true, 4),
        ("dynamodb.amazonaws.com", "DescribeTable", true, 4),
        ("lambda.amazonaws.com", "ListFunctions20150331", true, 4),
        ("kms.amazonaws.com", "DescribeKey", true, 4),
        ("iam.amazonaws.com", "ListUsers", true, 3),
        ("iam.amazonaws.com", "ListRoles", true, 3),
        ("rds.amazonaws.com", "DescribeDBInstances", true, 3),
        ("config.amazonaws.com", "DescribeConfigRules", true, 2),
    ],
    denied_reads: 0,
    denied_writes: 0,
};

/// A read-only security scanner: wide reads, some refused where its
/// role's policy does not reach.
const SCANNER: Profile = Profile {
    calls: &[
        ("ec2.amazonaws.com", "DescribeInstances", true, 10),
        ("ec2.amazonaws.com", "DescribeSecurityGroups", true, 10),
        ("s3.amazonaws.com", "ListBuckets", true, 6),
        ("s3.amazonaws.com", "GetBucketPolicy", true, 10),
        ("iam.amazonaws.com", "ListUsers", true, 6),
        ("iam.amazonaws.com", "ListRoles", true, 6),
        ("kms.amazonaws.com", "DescribeKey", true, 8),
        ("cloudtrail.amazonaws.com", "DescribeTrails", true, 4),
        ("cloudtrail.amazonaws.com", "GetTrailStatus", true, 4),
        ("rds.amazonaws.com", "DescribeDBInstances", true, 4),
        ("lambda.amazonaws.com", "ListFunctions20150331", true, 4),
        ("logs.amazonaws.com", "DescribeLogGroups", true, 4),
        ("config.amazonaws.com", "DescribeConfigRules", true, 3),
        ("sqs.amazonaws.com", "ListQueues", true, 3),
        ("sns.amazonaws.com", "ListTopics", true, 3),
    ],
    denied_reads: 6,
    denied_writes: 0,
};

/// An application on EC2, with its instance profile: its configuration,
/// secrets and keys, and its logs.
const APPLICATION: Profile = Profile {
    calls: &[
        ("ssm.amazonaws.com", "GetParameter", true, 10),
        ("secretsmanager.amazonaws.com", "GetSecretValue", true, 4),
        ("kms.amazonaws.com", "Decrypt", true, 10),
        ("kms.amazonaws.com", "GenerateDataKey", true, 6),
        ("logs.amazonaws.com", "CreateLogStream", false, 6),
        ("sqs.amazonaws.com", "ListQueues", true, 2),
    ],
    denied_reads: 0,
    denied_writes: 0,
};

/// The application instances of an account: (instance id, private address).
const INSTANCES: [(&str, &[&str]); 2] = [
    ("i-0a3f9c2e71b84d605", &["10.0.1.15"]),
    ("i-0c58e1d94f2a7b316", &["10.0.2.31"]),
];

/// The role session of an application instance's profile.
fn instance_session(acct: &str, (id, ips): (&'static str, &'static [&'static str])) -> Actor {
    Actor {
        identity: json!({"type":"AssumedRole","principalId":format!("AROA5APPSERVER2Q:{id}"),
            "arn":format!("arn:aws:sts::{acct}:assumed-role/app-server/{id}"),"accountId":acct,
            "accessKeyId":format!("ASIA5APP{}", id[2..].to_uppercase()),
            "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA5APPSERVER2Q",
                "arn":format!("arn:aws:iam::{acct}:role/app-server"),"accountId":acct,"userName":"app-server"},
                "attributes":{"creationDate":"2025-10-01T00:00:00Z","mfaAuthenticated":"false"},
                "ec2RoleDelivery":"2.0"}}),
        ips,
        agents: APP_AGENTS,
        service: None,
    }
}

const APP_AGENTS: &[&str] = &["Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.2 exec-env/EC2 Botocore/1.34.51"];

pub(super) fn actors(acct: &str) -> Vec<(u64, Actor, &'static Profile)> {
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
    let scanner = Actor {
        identity: json!({"type":"AssumedRole","principalId":"AROA6SECURITYAUDIT:scanner",
            "arn":format!("arn:aws:sts::{acct}:assumed-role/security-audit/scanner"),"accountId":acct,
            "accessKeyId":"ASIA6SECURITYAUDIT01",
            "sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA6SECURITYAUDIT",
                "arn":format!("arn:aws:iam::{acct}:role/security-audit"),"accountId":acct,"userName":"security-audit"},
                "attributes":{"creationDate":"2025-10-01T02:00:00Z","mfaAuthenticated":"false"}}}),
        ips: &["198.51.100.150"],
        agents: &["Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1.0 lang/python#3.12.2 Botocore/1.34.51 scanner/2.4"],
        service: None,
    };
    let mut all = vec![
        (
            30,
            iam_user(
                acct,
                "alice",
                "2ALICEEXAMPLE7Q",
                &["198.51.100.10", "198.51.100.11"],
                CLI_AGENTS,
            ),
            &ENGINEER,
        ),
        (
            20,
            iam_user(acct, "bob", "2BOBEXAMPLE9ZX1", &["192.0.2.15"], CLI_AGENTS),
            &ENGINEER,
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
            &PIPELINE,
        ),
        (25, sso("jane.doe@example.com", "3JANEEXAMPLE5KD"), &ADMIN),
        (
            10,
            Actor {
                identity: json!({"type":"AWSService","invokedBy":"config.amazonaws.com"}),
                ips: &["config.amazonaws.com"],
                agents: &["config.amazonaws.com"],
                service: Some("config.amazonaws.com"),
            },
            &RECORDER,
        ),
        (8, scanner, &SCANNER),
    ];
    for instance in INSTANCES {
        all.push((10, instance_session(acct, instance), &APPLICATION));
    }
    all
}

pub(super) fn autoscaling_role(acct: &str) -> Actor {
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

pub(super) fn root(acct: &str) -> Actor {
    Actor {
        identity: json!({"type":"Root","principalId":acct,"arn":format!("arn:aws:iam::{acct}:root"),"accountId":acct,"accessKeyId":""}),
        ips: &["203.0.113.200"],
        agents: CONSOLE_AGENTS,
        service: None,
    }
}

const TABLES: &[&str] = &["prod-orders", "prod-customers", "sessions", "audit-events"];

pub(super) fn instance_id(rng: &mut Rng) -> String {
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
pub(super) struct Event {
    pub time: DateTime<Utc>,
    pub record: Value,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn event(
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

pub(super) fn console_login(
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

/// The routine activity of one account, region and day: bursts of work
/// by one principal each, and each hour an instance's agent checking in
/// with Systems Manager.
pub(super) fn routine(
    rng: &mut Rng,
    acct: &str,
    region: &str,
    day: NaiveDate,
    target: u32,
    out: &mut Vec<Event>,
) {
    let people = actors(acct);
    for hour in 0..24 {
        // Early enough in the hour for its file to be delivered within it.
        let (id, ips) = INSTANCES[hour % INSTANCES.len()];
        let t = day
            .and_hms_opt(hour as u32, rng.below(45) as u32, rng.below(60) as u32)
            .expect("valid")
            .and_utc();
        out.push(event(
            rng,
            &instance_session(acct, (id, ips)),
            acct,
            region,
            t,
            "ssm.amazonaws.com",
            "UpdateInstanceInformation",
            false,
            json!({"instanceId":id,"agentVersion":"3.3.1142.0","agentName":"amazon-ssm-agent","platformType":"Linux"}),
            Value::Null,
            None,
        ));
    }
    let actor_weight: u64 = people.iter().map(|a| a.0).sum();
    let mut made = 0;
    while made < target {
        // A burst of work: one actor, a few minutes, several calls.
        let mut w = rng.below(actor_weight);
        let (_, actor, profile) = people
            .iter()
            .find(|(aw, _, _)| {
                let hit = w < *aw;
                if !hit {
                    w -= aw;
                }
                hit
            })
            .expect("weights");
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
        let total_weight: u64 = profile.calls.iter().map(|c| c.3).sum();
        for _ in 0..burst.min(target - made) {
            let mut pick = rng.below(total_weight);
            let &(source, name, ro, _) = profile
                .calls
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
            let denied = rng.chance(if ro {
                profile.denied_reads
            } else {
                profile.denied_writes
            });
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
