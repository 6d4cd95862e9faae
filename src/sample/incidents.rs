//! The incidents planted in a sample archive (README, "The sample
//! archive"): instances terminated by Auto Scaling and by a person, a burst
//! of failed console logins, an Identity Center user's role chain into the
//! other account, a console sign-in from another continent two hours after
//! one at home, a DynamoDB table deleted from an unusual IP after someone
//! else was denied, root activity without MFA, and logging stopped for
//! some hours.
//!
//! It imports nothing of trailsql outside `sample/`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use super::traffic::{
    actors, autoscaling_role, console_login, event, iam_user, instance_id, root, Actor, Event,
    CONSOLE_AGENTS,
};
use super::{Rng, ACCOUNTS, DELETED_TABLE, INCIDENT_ACCOUNT, INCIDENT_REGION, UNUSUAL_IP};

/// The access keys of the role chain's two hops.
pub const PROD_ADMIN_KEY: &str = "ASIA4PRODADMINJANE01";
pub const BILLING_KEY: &str = "ASIA4BILLINGEXPORT01";
/// Where alice's second sign-in of day 17 comes from.
pub const ABROAD_IP: &str = "203.0.113.45";

/// When, by day of the incidents' calendar (0 to [`SPAN`] - 1) and time
/// of day.
type At = dyn Fn(u32, u32, u32, u32) -> DateTime<Utc>;

/// The days the incidents are laid out over. A sample with fewer days holds
/// them all the same but the stopped trail, each day scaled into the days
/// it has, so they keep their order of days (some then share a day); a
/// sample with as many or more has them on these days.
pub const SPAN: u32 = 28;

/// The incident a short sample leaves out, as `sample` names it: a trail
/// stopped for hours breaks the digest chain, and a sample of a few days is
/// mostly made to practise on a clean one.
pub const STOPPED_TRAIL: &str = "the trail stopped for 8 hours (StopLogging, StartLogging)";

/// The planted incidents, all in INCIDENT_ACCOUNT / INCIDENT_REGION unless
/// said; and when logging was stopped and started again.
pub(super) fn incidents(
    rng: &mut Rng,
    start: NaiveDate,
    days: u32,
    out: &mut Vec<Event>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let at = move |d: u32, h: u32, m: u32, s: u32| {
        let day = if days >= SPAN {
            d
        } else {
            d * days.saturating_sub(1) / (SPAN - 1)
        };
        (start + Duration::days(day as i64))
            .and_hms_opt(h, m, s)
            .expect("valid")
            .and_utc()
    };
    terminations(rng, &at, out);
    failed_logins(rng, &at, out);
    // Their own random numbers, so that the incidents before them and the
    // traffic around them stay as they were before these were planted.
    let mut own = Rng(rng.0 ^ 0x005E_ED0F_1DE5);
    role_chain(&mut own, &at, out);
    sign_in_abroad(&mut own, &at, out);
    table_deletion(rng, &at, out);
    root_activity(rng, &at, out);
    (days >= SPAN).then(|| stopped_trail(rng, &at, out))
}

/// Instances terminated by Auto Scaling, then one by a person.
fn terminations(rng: &mut Rng, at: &At, out: &mut Vec<Event>) {
    let (acct, region) = (INCIDENT_ACCOUNT, INCIDENT_REGION);
    let people = actors(acct);
    let bob = &people[1].1;
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
}

/// Failed console logins: a burst for carol, a near miss for alice.
fn failed_logins(rng: &mut Rng, at: &At, out: &mut Vec<Event>) {
    let acct = INCIDENT_ACCOUNT;
    let people = actors(acct);
    let alice = &people[0].1;
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
}

/// The role session of `role` in `acct` that `key` is, named `name`.
fn role_session(acct: &str, role: &str, id: &str, name: &str, key: &str) -> Value {
    json!({"type":"AssumedRole","principalId":format!("{id}:{name}"),
        "arn":format!("arn:aws:sts::{acct}:assumed-role/{role}/{name}"),"accountId":acct,"accessKeyId":key,
        "sessionContext":{"sessionIssuer":{"type":"Role","principalId":id,
            "arn":format!("arn:aws:iam::{acct}:role/{role}"),"accountId":acct,"userName":role},
            "attributes":{"creationDate":"2025-10-01T00:00:00Z","mfaAuthenticated":"false"}}})
}

/// An AssumeRole by `caller` of `role` (an ARN), issuing `key`: its
/// parameters and response.
fn assume_role(role: &str, id: &str, name: &str, key: &str, at: DateTime<Utc>) -> (Value, Value) {
    let (acct, role_name) = role
        .split_once(":role/")
        .map(|(a, r)| (a.rsplit(':').next().unwrap_or_default(), r))
        .unwrap_or_default();
    let expires = (at + Duration::hours(1)).format("%b %-d, %Y, %-I:%M:%S %p");
    (
        json!({"roleArn":role,"roleSessionName":name,"durationSeconds":3600}),
        json!({"credentials":{"accessKeyId":key,"expiration":expires.to_string(),"sessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS"},
               "assumedRoleUser":{"assumedRoleId":format!("{id}:{name}"),
                   "arn":format!("arn:aws:sts::{acct}:assumed-role/{role_name}/{name}")}}),
    )
}

/// jane, an Identity Center user, takes her administrator role's
/// credentials, goes from there into the other account as `prod-admin`
/// (a cross-account hop, logged in both accounts), and from that as
/// `billing-export`, whose session reads the payment provider's secret:
/// `jane.doe@example.com -> AWSReservedSSO_... -> prod-admin ->
/// billing-export`, three hops.
fn role_chain(rng: &mut Rng, at: &At, out: &mut Vec<Event>) {
    let (home, region) = (INCIDENT_ACCOUNT, INCIDENT_REGION);
    let prod = ACCOUNTS[1];
    let people = actors(home);
    let jane = Actor {
        ips: &["198.51.100.23"],
        ..people[3].1.clone()
    };
    let user = jane.identity["principalId"]
        .as_str()
        .and_then(|p| p.split_once(':'))
        .map(|(_, u)| u.to_string())
        .unwrap_or_default();
    let sso_role = jane.identity["sessionContext"]["sessionIssuer"]["userName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Day 15, 09:12: Identity Center hands out the role's credentials.
    let portal = Actor {
        identity: json!({"type":"Unknown","principalId":user,"accountId":home,"userName":user}),
        ..jane.clone()
    };
    out.push(event(rng, &portal, home, region, at(14, 9, 12, 3), "sso.amazonaws.com", "GetRoleCredentials", true,
        json!({"roleName":sso_role.trim_start_matches("AWSReservedSSO_").split('_').next().unwrap_or_default(),"accountId":home}),
        Value::Null, None));
    // 09:14: into the production account, logged by both accounts.
    let hop = at(14, 9, 14, 40);
    let prod_admin = format!("arn:aws:iam::{prod}:role/prod-admin");
    let (params, response) =
        assume_role(&prod_admin, "AROA4PRODADMIN9X", &user, PROD_ADMIN_KEY, hop);
    let shared = rng.uuid();
    let mut mine = event(
        rng,
        &jane,
        home,
        region,
        hop,
        "sts.amazonaws.com",
        "AssumeRole",
        false,
        params.clone(),
        response.clone(),
        None,
    );
    let as_account = Actor {
        identity: json!({"type":"AWSAccount","principalId":jane.identity["principalId"],"accountId":home}),
        ..jane.clone()
    };
    let mut theirs = event(
        rng,
        &as_account,
        prod,
        region,
        hop,
        "sts.amazonaws.com",
        "AssumeRole",
        false,
        params,
        response,
        None,
    );
    for e in [&mut mine, &mut theirs] {
        let r = e.record.as_object_mut().expect("object");
        r.insert("sharedEventID".into(), json!(shared));
        r.insert(
            "resources".into(),
            json!([{"accountId":prod,"type":"AWS::IAM::Role","ARN":prod_admin}]),
        );
    }
    out.extend([mine, theirs]);
    // As prod-admin: a look at the roles, then into billing-export.
    let admin = Actor {
        identity: role_session(
            prod,
            "prod-admin",
            "AROA4PRODADMIN9X",
            &user,
            PROD_ADMIN_KEY,
        ),
        ..jane.clone()
    };
    out.push(event(
        rng,
        &admin,
        prod,
        region,
        at(14, 9, 15, 10),
        "iam.amazonaws.com",
        "ListRoles",
        true,
        json!({}),
        Value::Null,
        None,
    ));
    let export = format!("arn:aws:iam::{prod}:role/billing-export");
    let second = at(14, 9, 16, 2);
    let (params, response) = assume_role(
        &export,
        "AROA4BILLINGEXP2",
        "jane-billing",
        BILLING_KEY,
        second,
    );
    out.push(event(
        rng,
        &admin,
        prod,
        region,
        second,
        "sts.amazonaws.com",
        "AssumeRole",
        false,
        params,
        response,
        None,
    ));
    // As billing-export: the payment provider's secret, and the buckets.
    let billing = Actor {
        identity: role_session(
            prod,
            "billing-export",
            "AROA4BILLINGEXP2",
            "jane-billing",
            BILLING_KEY,
        ),
        ..jane.clone()
    };
    for (when, source, name, params) in [
        (
            at(14, 9, 16, 31),
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            json!({"secretId":"prod/stripe"}),
        ),
        (
            at(14, 9, 17, 5),
            "s3.amazonaws.com",
            "ListBuckets",
            json!({"Host":"s3.amazonaws.com"}),
        ),
    ] {
        out.push(event(
            rng,
            &billing,
            prod,
            region,
            when,
            source,
            name,
            true,
            params,
            Value::Null,
            None,
        ));
    }
}

/// alice signs in to the console at home, then again two hours later from
/// the intruder's network on another continent, three days before her
/// credentials delete the table from it.
fn sign_in_abroad(rng: &mut Rng, at: &At, out: &mut Vec<Event>) {
    let acct = INCIDENT_ACCOUNT;
    let people = actors(acct);
    let alice = Actor {
        agents: CONSOLE_AGENTS,
        ..people[0].1.clone()
    };
    out.push(console_login(
        rng,
        &alice,
        acct,
        at(16, 8, 5, 12),
        "198.51.100.10",
        true,
        true,
    ));
    out.push(console_login(
        rng,
        &alice,
        acct,
        at(16, 10, 41, 37),
        ABROAD_IP,
        true,
        true,
    ));
}

/// The DynamoDB table deleted from an unusual IP, after a denied attempt.
fn table_deletion(rng: &mut Rng, at: &At, out: &mut Vec<Event>) {
    let (acct, region) = (INCIDENT_ACCOUNT, INCIDENT_REGION);
    let people = actors(acct);
    let alice = &people[0].1;
    let bob = &people[1].1;
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
}

/// Root signs in without MFA and makes an access key.
fn root_activity(rng: &mut Rng, at: &At, out: &mut Vec<Event>) {
    let acct = INCIDENT_ACCOUNT;
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
}

/// The trail stopped for some hours: when it stopped and started again.
fn stopped_trail(rng: &mut Rng, at: &At, out: &mut Vec<Event>) -> (DateTime<Utc>, DateTime<Utc>) {
    let (acct, region) = (INCIDENT_ACCOUNT, INCIDENT_REGION);
    let people = actors(acct);
    let jane = &people[3].1;
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
    (stop, resume)
}
