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
,GetRoleCredentials,jane@example.com,arn:aws:iam::111122223333:role/Admin,jane@example.com,,2025-03-02T10:00:00Z,,Unknown,jane@example.com,IdentityCenterUser,jane@example.com -> Admin,1,
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
