//! Who is behind a temporary key: `<source>_sessions` over a fixture of
//! role chains (tests/data/sessions: one, two and three hops, a chain
//! leaving the archive three ways, Identity Center, SAML, web identity,
//! a federation token and a session token, an EC2 instance role, a
//! cross-account AssumeRole logged twice, a denied one).

use crate::util::{csv_answer, repo, run, text};

fn fixture() -> String {
    repo().join("tests/data/sessions").display().to_string()
}

const EVERY_SESSION: &str = "SELECT access_key_id, issued_by_call, session_name, role_arn, \
     federated_identity, identity_provider, issued_at, expires_at, issuer_type, origin, \
     origin_type, origin_path, hops, why_no_origin FROM cloudtrail_sessions ORDER BY issued_at";

const EXPECTED: &str = "\
access_key_id,issued_by_call,session_name,role_arn,federated_identity,identity_provider,issued_at,expires_at,issuer_type,origin,origin_type,origin_path,hops,why_no_origin
ASIAROLEW0000001,AssumeRole,w1,arn:aws:iam::111122223333:role/RoleW,,,2025-03-01T00:30:00Z,2025-03-01T11:00:00Z,AssumedRole,,,,,ASIAROLEZ0000000 was issued before the archive begins
ASIAROLEA0000001,AssumeRole,a1,arn:aws:iam::111122223333:role/RoleA,,,2025-03-01T10:00:00Z,2025-03-01T11:00:00Z,IAMUser,arn:aws:iam::111122223333:user/alice,IAMUser,alice -> RoleA,1,
ASIAROLEB0000001,AssumeRole,b1,arn:aws:iam::111122223333:role/RoleB,,,2025-03-01T10:01:00Z,2025-03-01T11:00:00Z,AssumedRole,arn:aws:iam::111122223333:user/alice,IAMUser,alice -> RoleA -> RoleB,2,
ASIAROLEC0000001,AssumeRole,c1,arn:aws:iam::111122223333:role/RoleC,,,2025-03-01T10:05:00Z,2025-03-01T11:00:00Z,AssumedRole,arn:aws:iam::111122223333:user/alice,IAMUser,alice -> RoleA -> RoleB -> RoleC,3,
ASIAROLEY0000001,AssumeRole,y1,arn:aws:iam::111122223333:role/RoleY,,,2025-03-02T09:00:00Z,2025-03-02T10:00:00Z,AssumedRole,,,,,\"the call that issued ASIAGONE00000001 is not in the archive (another region, or a gap)\"
ASIAROLEIN000001,AssumeRole,in1,arn:aws:iam::111122223333:role/RoleIn,,,2025-03-02T09:05:00Z,2025-03-02T10:05:00Z,AssumedRole,,,,,\"ASIAPARTNER00001 was issued in account 999988887777, which the sources do not hold\"
,GetRoleCredentials,jane@example.com,arn:aws:iam::111122223333:role/Admin,jane@example.com,,2025-03-02T10:00:00Z,,Unknown,jane@example.com,Unknown,jane@example.com -> Admin,1,
ASIADEPLOY000001,AssumeRole,deploy,arn:aws:iam::111122223333:role/Deploy,,,2025-03-02T10:05:00Z,2025-03-02T11:05:00Z,AssumedRole,jane@example.com,IdentityCenterUser,jane@example.com -> AWSReservedSSO_Admin_0123 -> Deploy,2,
ASIASAMLBOB00001,AssumeRoleWithSAML,bob@corp.example,arn:aws:iam::111122223333:role/Federated,bob@corp.example,arn:aws:iam::111122223333:saml-provider/Corp,2025-03-02T11:00:00Z,2025-03-02T12:00:00Z,SAMLUser,bob@corp.example,SAMLUser,bob@corp.example -> Federated,1,
ASIAWEBAPP000001,AssumeRoleWithWebIdentity,web1,arn:aws:iam::111122223333:role/WebApp,1234,accounts.google.com,2025-03-02T11:05:00Z,2025-03-02T12:05:00Z,WebIdentityUser,1234,WebIdentityUser,1234 -> WebApp,1,
ASIAFEDTOKEN0001,GetFederationToken,contractor,,contractor,,2025-03-02T12:00:00Z,2025-03-02T13:00:00Z,IAMUser,arn:aws:iam::111122223333:user/fed-user,IAMUser,fed-user -> federated:contractor,1,
ASIASESSION00001,GetSessionToken,,,,,2025-03-02T12:05:00Z,2025-03-02T13:05:00Z,IAMUser,arn:aws:iam::111122223333:user/alice,IAMUser,alice -> GetSessionToken,1,
ASIAAUDIT0000001,AssumeRole,contractor,arn:aws:iam::111122223333:role/Audit,,,2025-03-02T12:10:00Z,2025-03-02T13:10:00Z,FederatedUser,arn:aws:iam::111122223333:user/fed-user,IAMUser,fed-user -> federated:contractor -> Audit,2,
ASIAEC2WEB000001,AssumeRole,i-0abc1234,arn:aws:iam::111122223333:role/WebServer,,,2025-03-02T13:00:00Z,2025-03-02T19:00:00Z,AWSService,ec2.amazonaws.com,AWSService,ec2.amazonaws.com -> WebServer,1,
";

#[test]
fn every_issued_key_has_its_origin_or_says_why_not() {
    assert_eq!(csv_answer(&fixture(), EVERY_SESSION), EXPECTED);
}

#[test]
fn a_converted_archive_has_the_same_sessions() {
    let dest = tempfile::tempdir().unwrap();
    let out = run(&["convert", &fixture(), dest.path().to_str().unwrap()], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        csv_answer(dest.path().to_str().unwrap(), EVERY_SESSION),
        EXPECTED
    );
}

#[test]
fn a_named_source_has_its_own_sessions_table() {
    let named = format!("prod={}", fixture());
    let out = run(
        &[
            "--source",
            &named,
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS n, count(origin) AS known FROM prod_sessions",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "n,known\n14,11\n");
}

#[test]
fn the_events_view_names_the_origin_of_every_call() {
    let sql = "SELECT eventtime, event_name, access_key_id, origin, origin_type, origin_path \
               FROM cloudtrail_events WHERE region = 'eu-west-1' OR event_name IN \
               ('GetRoleCredentials', 'AssumeRoleWithSAML') OR access_key_id = 'ASIAAUDIT0000001' \
               OR source_ip = '198.51.100.9' ORDER BY eventtime";
    assert_eq!(
        csv_answer(&fixture(), sql),
        "eventtime,event_name,access_key_id,origin,origin_type,origin_path\n\
         2025-03-01T10:11:00Z,DeleteBucket,ASIAROLEC0000001,arn:aws:iam::111122223333:user/alice,IAMUser,alice -> RoleA -> RoleB -> RoleC\n\
         2025-03-02T09:00:00Z,AssumeRole,ASIAGONE00000001,,,\n\
         2025-03-02T10:00:00Z,GetRoleCredentials,,jane@example.com,Unknown,jane@example.com\n\
         2025-03-02T11:00:00Z,AssumeRoleWithSAML,,bob@corp.example,SAMLUser,bob@corp.example\n"
    );
}

/// The files `--stats` says a query read.
fn files_read(source: &str, sql: &str) -> String {
    let out = run(
        &["--source", source, "--stats", "--format", "csv", "-e", sql],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stats = text(&out.stderr);
    stats
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_start_matches("trailsql: ")
        .to_string()
}

#[test]
fn the_sessions_are_read_only_when_a_query_reads_the_origin() {
    let src = fixture();
    // 16 log files: one scan, as before the view had an origin.
    let plain = files_read(
        &src,
        "SELECT count(*) FROM cloudtrail_events WHERE event_name = 'AssumeRole'",
    );
    assert!(plain.starts_with("read 16 of 16 log files"), "{plain}");
    // The origin: the sessions' scan too.
    let origin = files_read(
        &src,
        "SELECT count(*) FROM cloudtrail_events WHERE origin LIKE '%/alice'",
    );
    assert!(origin.starts_with("read 32 of 32 log files"), "{origin}");
    // Shown, not run: nothing read.
    let shown = files_read(&src, "EXPLAIN SELECT origin FROM cloudtrail_events");
    assert!(shown.starts_with("read 0 of 16 log files"), "{shown}");
    assert_eq!(
        csv_answer(
            &src,
            "SELECT count(*) AS n FROM cloudtrail_events WHERE origin LIKE '%/alice'"
        ),
        "n\n8\n"
    );
}

#[test]
fn lookup_by_origin_finds_what_one_person_did_through_any_role() {
    let out = run(
        &[
            "lookup",
            "--source",
            &fixture(),
            "--origin",
            "alice",
            "--format",
            "csv",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{} {} {}", f[1], f[6], f[f.len() - 1])
        })
        .collect();
    assert_eq!(
        rows,
        [
            "event_name access_key_id origin_path",
            "GetSessionToken AKIAALICE0000001 alice",
            "DeleteBucket ASIAROLEC0000001 alice -> RoleA -> RoleB -> RoleC",
            "ListBuckets ASIAROLEC0000001 alice -> RoleA -> RoleB -> RoleC",
            "AssumeRole AKIAALICE0000001 alice",
            "AssumeRole ASIAROLEB0000001 alice -> RoleA -> RoleB",
            "AssumeRole ASIAROLEA0000001 alice -> RoleA",
            "AssumeRole AKIAALICE0000001 alice",
            "AssumeRole AKIAALICE0000001 alice",
        ]
    );
    // An Identity Center user, by the name the session carries.
    let out = run(
        &[
            "lookup",
            "--source",
            &fixture(),
            "--origin",
            "jane@example.com",
            "--format",
            "csv",
        ],
        "",
    );
    assert_eq!(
        text(&out.stdout).lines().count(),
        3,
        "{}",
        text(&out.stdout)
    );
}
