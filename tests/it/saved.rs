//! Saved queries (`trailsql run`): every built-in query against its own
//! fixture archive in tests/data/saved/<name>/ (events that must fire and near
//! misses that must not), pinned as expected.csv; and the options. Their
//! answers on the sample archive's planted incidents are pinned in sample.rs.

use std::path::Path;

use trailsql::queries::Catalogue;

use crate::util::{assert_fails_saying, corpus, repo, run, run_area, text};

fn saved_fixture(name: &str) -> std::path::PathBuf {
    repo().join("tests/data/saved").join(name)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_saved_query_gives_its_pinned_answer_on_its_fixture() {
    let catalogue = Catalogue::load(None).unwrap();
    assert!(catalogue.queries.len() >= 2);
    for name in catalogue.queries.keys() {
        let fixture = saved_fixture(name);
        assert!(
            fixture.join("expected.csv").is_file(),
            "{name}: no fixture in {}",
            fixture.display()
        );
        let out_dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--source".to_string(),
            fixture.to_str().unwrap().to_string(),
            "run".to_string(),
            name.clone(),
            "--out-dir".to_string(),
            out_dir.path().to_str().unwrap().to_string(),
        ];
        // A query that places addresses gets the tests' databases named in
        // the fixture's `geoip` file.
        let databases = fixture
            .join("geoip")
            .is_file()
            .then(crate::places::databases);
        if let Some(dbs) = &databases {
            for name in read(&fixture.join("geoip"))
                .lines()
                .filter(|l| !l.trim().is_empty())
            {
                args.extend([
                    "--geoip".to_string(),
                    dbs.path().join(name.trim()).display().to_string(),
                ]);
            }
        }
        // A query with a required parameter takes it from the fixture's
        // `params` file (KEY=VALUE lines).
        if let Ok(params) = std::fs::read_to_string(fixture.join("params")) {
            for line in params.lines().filter(|l| !l.trim().is_empty()) {
                args.extend(["--param".to_string(), line.trim().to_string()]);
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, "");
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let got = read(&out_dir.path().join(format!("{name}.csv")));
        let want = read(&fixture.join("expected.csv"));
        assert_eq!(got, want, "{name}");
        // The standard columns come first, in order.
        let header = got.lines().next().unwrap_or("");
        assert!(
            header.starts_with(
                "eventtime,account,region,actor,source_ip,event_source,event_name,target,error_code"
            ),
            "{name}: {header}"
        );
        let rows = got.lines().count() - 1;
        assert!(rows > 0, "{name}: the fixture must make it fire");
        let summary = read(&out_dir.path().join("summary.csv"));
        assert!(summary.contains(&format!("{name},")), "{summary}");
        assert!(
            summary.trim_end().ends_with(&format!(",{rows},")),
            "{summary}"
        );
    }
}

#[test]
fn parameters_time_window_and_exit_codes() {
    let fixture = saved_fixture("forensics/data-store-deletions");
    let src = fixture.to_str().unwrap();
    let csv = |extra: &[&str]| -> (Option<i32>, String) {
        let mut args = vec![
            "--source",
            src,
            "--format",
            "csv",
            "run",
            "data-store-deletions",
        ];
        args.extend_from_slice(extra);
        let out = run(&args, "");
        (out.status.code(), text(&out.stdout))
    };
    // A parameter narrows the answer.
    let (code, out) = csv(&["--param", "resource=billing%"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("DeleteDBInstance,billing-db"), "{out}");
    assert!(!out.contains("orders"), "{out}");
    // The window: [since, until).
    let (_, out) = csv(&[
        "--since",
        "2025-10-20T10:01:00Z",
        "--until",
        "2025-10-20T10:03:00Z",
    ]);
    assert!(out.contains(",denied or failed,"), "{out}");
    assert!(out.contains("billing-db"), "{out}");
    assert!(
        !out.contains("analytics") && !out.contains("10:00:00Z"),
        "{out}"
    );
    // --fail-on-findings: 1 when something is found, 0 when not.
    assert_eq!(csv(&["--fail-on-findings"]).0, Some(1));
    let (code, out) = csv(&["--fail-on-findings", "--until", "2025-10-19"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(": 0 findings"), "{out}");
    // Mistakes are errors, not silence.
    assert_fails_saying(
        &[
            "--source",
            src,
            "run",
            "data-store-deletions",
            "--param",
            "table=x",
        ],
        "parameter \"table\"",
    );
    assert_fails_saying(&["--source", src, "run", "no-such-query"], "no saved query");
    assert_fails_saying(
        &[
            "--source",
            src,
            "run",
            "data-store-deletions",
            "--since",
            "last tuesday",
        ],
        "is not a time",
    );
    assert_fails_saying(&["run", "data-store-deletions"], "--source");
}

#[test]
fn a_users_folder_adds_queries_and_overrides_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("forensics")).unwrap();
    std::fs::write(
        dir.path().join("forensics/root-account-activity.sql"),
        "-- title: Mine\n-- severity: low\n-- description: overrides the built-in one\n\
         SELECT eventtime, eventname FROM cloudtrail\n\
         WHERE eventtime >= $since AND eventtime < $until AND eventname = 'ListUsers'\n\
         ORDER BY eventtime\n",
    )
    .unwrap();
    let queries = dir.path().to_str().unwrap();
    let listing = text(&run(&["--queries", queries, "run", "--list"], "").stdout);
    assert!(
        listing.contains("forensics/root-account-activity  [low]  Mine"),
        "{listing}"
    );
    assert!(
        listing.contains("forensics/data-store-deletions"),
        "{listing}"
    );
    let fixture = saved_fixture("forensics/root-account-activity");
    let out = run(
        &[
            "--source",
            fixture.to_str().unwrap(),
            "--queries",
            queries,
            "--format",
            "csv",
            "run",
            "root-account-activity",
        ],
        "",
    );
    let t = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(t.contains("[low] Mine: 1 finding"), "{t}");
    assert!(t.contains("ListUsers"), "{t}");
}

/// The CSV a saved query prints for its fixture, with `extra` arguments.
fn answer(name: &str, extra: &[&str]) -> String {
    let fixture = saved_fixture(name);
    let mut args = vec!["--source", fixture.to_str().unwrap(), "--format", "csv"];
    args.extend_from_slice(&["run", name]);
    args.extend_from_slice(extra);
    let out = run(&args, "");
    assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn query_parameters_change_what_fires() {
    // The narrow CIS variant (Security Hub's CloudWatch.3): IAM users'
    // successful sign-ins only.
    let out = answer(
        "cis/console-signin-without-mfa",
        &[
            "--param",
            "identity_type=IAMUser",
            "--param",
            "result=Success",
        ],
    );
    assert!(out.contains(": 2 findings"), "{out}");
    assert!(
        out.contains("user/alice") && out.contains("user/erin"),
        "{out}"
    );
    assert!(!out.contains("carol") && !out.contains("dana"), "{out}");

    // Four failures within a minute do not make a burst at 5, but do at 4;
    // carol's five failures over 70 seconds hold four within 60 seconds.
    let out = answer("forensics/failed-login-bursts", &[]);
    assert!(!out.contains(",bob,") && !out.contains(",carol,"), "{out}");
    let out = answer("forensics/failed-login-bursts", &["--param", "threshold=4"]);
    assert_eq!(out.matches(",bob,").count(), 4, "{out}");
    assert_eq!(out.matches(",carol,").count(), 5, "{out}");

    // Only gaps of at least `hours` hours.
    let out = answer("forensics/delivery-gaps", &["--param", "hours=3"]);
    assert!(out.contains(": 1 finding"), "{out}");
    assert!(
        out.contains("2025-10-20T14:00:00Z,123456789012,us-east-1,"),
        "{out}"
    );

    // Calls before --since are the baseline, not findings.
    let out = answer(
        "forensics/new-source-ip",
        &[
            "--since",
            "2025-10-20T09:30:00Z",
            "--param",
            "learning_hours=0",
        ],
    );
    assert!(out.contains(": 1 finding"), "{out}");
    assert!(out.contains("dave@example.com,203.0.113.200"), "{out}");
    // And so are the addresses of a principal's first day (by default):
    // the fixture's calls are all within two hours of each one's first.
    let out = answer("forensics/new-source-ip", &[]);
    assert!(out.contains(": 0 findings"), "{out}");

    // Allowlists: the deployment tools' user agents are left out unless
    // the list is emptied; a principal on allow_principals is left out.
    let out = answer("attack/lambda-code-overwritten", &[]);
    assert!(
        out.contains(": 2 findings") && !out.contains("ci-deployer"),
        "{out}"
    );
    let out = answer(
        "attack/lambda-code-overwritten",
        &["--param", "allow_tools="],
    );
    assert!(
        out.contains(": 3 findings") && out.contains("user/ci-deployer"),
        "{out}"
    );
    let out = answer(
        "attack/lambda-code-overwritten",
        &[
            "--param",
            "allow_principals=arn:aws:iam::*:user/mallory,*/alice",
        ],
    );
    assert!(out.contains(": 0 findings"), "{out}");
    // An account on allow_accounts is not an outsider of a bucket policy;
    // without the list, the fixture's fourth policy is one.
    let out = answer("attack/s3-bucket-policy-opened", &[]);
    assert!(
        out.contains(": 3 findings") && out.contains(",111122223333,"),
        "{out}"
    );

    // One instance out of a multi-instance termination.
    let out = answer(
        "forensics/instance-terminations",
        &["--param", "instance=i-0bbb111122223333b"],
    );
    assert!(out.contains(": 1 finding"), "{out}");
    assert!(out.contains("user/alice"), "{out}");
}

#[test]
fn a_required_parameter_must_be_given_or_the_query_is_skipped() {
    let fixture = saved_fixture("forensics/access-key-activity");
    let src = fixture.to_str().unwrap();
    assert_fails_saying(
        &["--source", src, "run", "access-key-activity"],
        "forensics/access-key-activity needs --param access_key_id=VALUE",
    );
    // Among several queries it is skipped, and both the output and the
    // summary say why; the others run.
    let (out_dir, out) = run_area(src, "forensics");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(
        t.contains("forensics/access-key-activity [info] Everything done with one access key: not run, needs --param access_key_id=VALUE"),
        "{t}"
    );
    assert!(t.contains("forensics/new-iam-credentials [medium]"), "{t}");
    let summary = read(&out_dir.path().join("summary.csv"));
    assert!(
        summary.contains(
            "forensics/access-key-activity,info,Everything done with one access key,,not run: needs --param access_key_id=VALUE\n"
        ),
        "{summary}"
    );
    assert!(!out_dir
        .path()
        .join("forensics/access-key-activity.csv")
        .exists());
    // `run --list` shows that it must be given.
    let listing = text(&run(&["run", "--list"], "").stdout);
    assert!(
        listing.contains("--param access_key_id=VALUE (required)"),
        "{listing}"
    );
}

/// Real detonations (Stratus Red Team logs in ../shared/corpus): every
/// technique the corpus holds is mapped to the detections written for it,
/// and each fires on the attack's own events.
#[test]
fn saved_queries_fire_on_real_attack_logs() {
    let Some(corpus) = corpus() else { return };
    let cases = [
        ("aws.defense-evasion.cloudtrail-delete", "trail-tampering",
         ",DeleteTrail,stratus-red-team-cloudtraild-trail-kvrwohmiai,,delete the trail,"),
        ("aws.defense-evasion.cloudtrail-stop", "trail-tampering",
         ",StopLogging,stratus-red-team-ct-stop-trail-buykxbqejv,,stop logging,"),
        ("aws.defense-evasion.cloudtrail-event-selectors", "trail-tampering",
         ",PutEventSelectors,stratus-red-team-ctes-trail-khlvciwdor,,exclude or limit management events,"),
        ("aws.defense-evasion.cloudtrail-stop", "cloudtrail-config-changes", ",StopLogging,"),
        ("aws.defense-evasion.organizations-leave", "organizations-changes",
         ",LeaveOrganization,,AccessDenied,"),
        // The anonymiser rewrote 0.0.0.0/0 as another address; /0 still
        // admits the whole internet.
        ("aws.exfiltration.ec2-security-group-open-port-22-ingress", "security-groups-open-to-world",
         ",AuthorizeSecurityGroupIngress,sg-003dc7f1f1c686164,,ingress,208.236.235.254/0,tcp 22,"),
        ("aws.exfiltration.ec2-security-group-open-port-22-ingress", "security-group-changes",
         ",AuthorizeSecurityGroupIngress,sg-003dc7f1f1c686164,"),
        ("aws.initial-access.console-login-without-mfa", "console-signin-without-mfa",
         ",ConsoleLogin,https://console.aws.amazon.com/console/home,,IAMUser,Success,No,"),
        ("aws.persistence.iam-create-admin-user", "admin-policy-attachments",
         ",AttachUserPolicy,malicious-iam-user,,arn:aws:iam::aws:policy/AdministratorAccess,"),
        ("aws.persistence.iam-create-admin-user", "new-iam-credentials",
         ",CreateUser,malicious-iam-user,,,,true,"),
        ("aws.persistence.iam-backdoor-user", "new-iam-credentials",
         ",CreateAccessKey,stratus-red-team-backdoor-u-user,,AKIAL80DWDVKKM0UXEER,,true,"),
        ("aws.persistence.iam-create-backdoor-role", "admin-policy-attachments",
         ",AttachRolePolicy,stratus-red-team-malicious-iam-role,,arn:aws:iam::aws:policy/AdministratorAccess,"),
        ("aws.persistence.iam-create-user-login-profile", "new-iam-credentials",
         ",CreateLoginProfile,stratus-red-team-login-profile-user,,,false,true,"),
        ("aws.defense-evasion.dns-delete-logs", "attack/dns-query-logs-deleted",
         ",DeleteResolverQueryLogConfig,rqlc-4473f20ca554c07,"),
        ("aws.defense-evasion.vpc-remove-flow-logs", "attack/vpc-flow-logs-deleted",
         ",DeleteFlowLogs,fl-0e17aa62a21d4bbfe,"),
        ("aws.exfiltration.ec2-share-ami", "attack/snapshot-or-image-shared",
         ",ModifyImageAttribute,ami-de1fbCab6ccB03e6D,,\"[{\"\"userId\"\":\"\"846424999548\"\"}]\",false,"),
        ("aws.exfiltration.ec2-share-ebs-snapshot", "attack/snapshot-or-image-shared",
         ",ModifySnapshotAttribute,snap-041993b54a9b3af6f,,"),
        ("aws.exfiltration.rds-share-snapshot", "attack/snapshot-or-image-shared",
         ",ModifyDBSnapshotAttribute,exfiltration,,\"[\"\"503161813013\"\"]\",false,"),
        ("aws.discovery.ec2-download-user-data", "attack/ec2-user-data-read",
         ",DescribeInstanceAttribute,i-1780bff0,Client.UnauthorizedOperation,"),
        ("aws.execution.ec2-user-data", "attack/ec2-user-data-changed",
         ",ModifyInstanceAttribute,i-DDd6c7B0e18F0E35f,,"),
        ("aws.credential-access.ec2-get-password-data", "attack/ec2-password-data",
         ",GetPasswordData,i-gspajwz8z9wrutsz,Client.UnauthorizedOperation,"),
        ("aws.lateral-movement.ec2-instance-connect", "attack/ec2-ssh-key-pushed",
         ",SendSSHPublicKey,i-fDb357cB7e99ad973,,ec2-user,"),
        ("aws.lateral-movement.ec2-serial-console-send-ssh-public-key", "attack/ec2-ssh-key-pushed",
         ",SendSerialConsoleSSHPublicKey,i-D46eD8FCdefED5aAE,"),
        ("aws.persistence.rolesanywhere-create-trust-anchor", "attack/rolesanywhere-trust-anchor",
         ",CreateTrustAnchor,"),
        ("aws.persistence.sts-federation-token", "attack/federation-token",
         ",GetFederationToken,stratus_red_team,,true,"),
        ("aws.privilege-escalation.iam-update-user-login-profile", "attack/login-profile-changed",
         ",UpdateLoginProfile,stratus-red-team-update-login-profile-user,"),
        ("aws.persistence.iam-backdoor-role", "attack/role-trust-policy-changed",
         ",UpdateAssumeRolePolicy,stratus-red-team-backdoor-r-role,,true,false,"),
        ("aws.persistence.lambda-backdoor-function", "attack/lambda-made-public",
         ",AddPermission20150331v2,stratus-red-team-backdoor-f-func,,*,lambda:InvokeFunction,"),
        ("aws.execution.ec2-launch-unusual-instances", "attack/unusual-instance-types",
         ",RunInstances,p2.xlarge,Client.UnauthorizedOperation,10,"),
        ("aws.execution.ssm-send-command", "attack/ssm-remote-commands",
         ",SendCommand,\"i-00456A8D163f546Ff, i-cfE23b1a7ceba6f86, i-9D40CCFc0aE91CFa5\","),
        ("aws.execution.ssm-start-session", "attack/ssm-remote-commands",
         ",StartSession,i-d3720C7af6fCfF2B2,"),
        ("aws.impact.bedrock-invoke-model", "attack/bedrock-model-use",
         ",InvokeModel,anthropic.claude-3-sonnet-20240229-v1:0,"),
        ("aws.persistence.lambda-layer-extension", "attack/lambda-layer-added",
         ",UpdateFunctionConfiguration20150331v2,"),
        ("aws.credential-access.secretsmanager-retrieve-secrets", "attack/secrets-mass-retrieval",
         ",GetSecretValue,arn:aws:secretsmanager:cn-centraleast-1r:903144391865:secret:stratus-red-team-retrieve-secret-4-Rma50d,,20,"),
        ("aws.credential-access.secretsmanager-batch-retrieve-secrets", "attack/secrets-mass-retrieval",
         ",BatchGetSecretValue,"),
        ("aws.credential-access.ssm-retrieve-securestring-parameters", "attack/parameters-mass-decryption",
         ",GetParameters,\"/credentials/stratus-red-team/credentials-"),
        ("aws.credential-access.ec2-steal-instance-credentials", "attack/instance-credentials-elsewhere",
         ",18.236.253.47,sts.amazonaws.com,GetCallerIdentity,i-786a3A8B5C0d92eF4,,18.236.253.47,1,2,"),
        ("aws.persistence.lambda-overwrite-code", "attack/lambda-code-overwritten",
         ",UpdateFunctionCode20150331v2,stratus-red-team-olc-func-vayhjqkdav,,zip in the call,"),
    ];
    // Every technique the corpus holds has a detection in the map above.
    let mut detonated: Vec<String> = std::fs::read_dir(corpus.join("stratus-red-team"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    detonated.sort();
    let mut mapped: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    mapped.sort();
    mapped.dedup();
    assert_eq!(
        mapped, detonated,
        "techniques of the corpus without a detection"
    );
    assert_eq!(detonated.len(), 35);
    for (technique, query, want) in cases {
        let file = corpus.join(format!("stratus-red-team/{technique}.json"));
        let out = run(
            &[
                "--source",
                file.to_str().unwrap(),
                "--format",
                "csv",
                "run",
                query,
            ],
            "",
        );
        assert!(out.status.success(), "{technique}: {}", text(&out.stderr));
        let t = text(&out.stdout);
        assert!(
            t.lines().any(|l| l.contains(want)),
            "{technique} / {query}: {t}"
        );
    }
}

/// `run --all --area forensics` of the saved queries in `pack` over
/// `fixture`.
fn run_forensics_pack(fixture: &Path, pack: &Path) -> std::process::Output {
    run(
        &[
            "--source",
            fixture.to_str().unwrap(),
            "--queries",
            pack.to_str().unwrap(),
            "run",
            "--all",
            "--area",
            "forensics",
        ],
        "",
    )
}

/// A query pack is someone else's SQL: a saved query that would write a
/// file, make a table or change a setting is refused, naming its file,
/// before any query of the run is run (no file written, no finding shown).
#[test]
fn saved_queries_may_only_read() {
    let fixture = saved_fixture("forensics/root-account-activity");
    let header = "-- title: T\n-- severity: low\n-- description: d\n";
    let writes = |dir: &std::path::Path| dir.join("stolen.csv");
    for (name, sql) in [
        (
            "copy",
            format!("COPY (SELECT * FROM cloudtrail) TO '{}'", "{OUT}"),
        ),
        (
            "ddl",
            "CREATE TABLE t AS SELECT eventname FROM cloudtrail".to_string(),
        ),
        (
            "external",
            "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'".to_string(),
        ),
        ("set", "SET datafusion.execution.batch_size = 1".to_string()),
        (
            "into",
            "SELECT eventname INTO t2 FROM cloudtrail".to_string(),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join("pack");
        std::fs::create_dir_all(pack.join("forensics")).unwrap();
        // A harmless query first in the run's order: it must not run either.
        std::fs::write(
            pack.join("forensics/a-first.sql"),
            format!("{header}SELECT eventname FROM cloudtrail\n"),
        )
        .unwrap();
        let file = pack.join(format!("forensics/z-{name}.sql"));
        let out_file = writes(dir.path());
        let sql = sql.replace("{OUT}", out_file.to_str().unwrap());
        std::fs::write(&file, format!("{header}{sql}\n")).unwrap();
        let out = run_forensics_pack(&fixture, &pack);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(&format!("forensics/z-{name}")) && err.contains("may only read"),
            "{name}: {err}"
        );
        assert!(err.contains(file.to_str().unwrap()), "{name}: {err}");
        assert!(!text(&out.stdout).contains("=="), "{name}: a query ran");
        assert!(!out_file.exists(), "{name}");
    }
    // -e keeps full SQL: the user's own.
    let dir = tempfile::tempdir().unwrap();
    let out_file = writes(dir.path());
    let out = run(
        &[
            "--source",
            fixture.to_str().unwrap(),
            "-e",
            &format!(
                "COPY (SELECT eventname FROM cloudtrail) TO '{}'",
                out_file.display()
            ),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out_file.exists());
}

/// A saved query of a pack that cannot be planned (a column the table
/// lacks) stops the run before anything runs, naming the query, its file
/// and what is wrong; it is not called a query that writes.
#[test]
fn a_saved_query_that_cannot_be_planned_is_named_with_its_file() {
    let fixture = saved_fixture("forensics/root-account-activity");
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(pack.join("forensics")).unwrap();
    let header = "-- title: T\n-- severity: low\n-- description: d\n";
    std::fs::write(
        pack.join("forensics/a-first.sql"),
        format!("{header}SELECT eventname FROM cloudtrail\n"),
    )
    .unwrap();
    let file = pack.join("forensics/z-typo.sql");
    std::fs::write(&file, format!("{header}SELECT eventnmae FROM cloudtrail\n")).unwrap();
    let out = run_forensics_pack(&fixture, &pack);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("forensics/z-typo"), "{err}");
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    assert!(err.contains("eventnmae"), "{err}");
    assert!(!err.contains("may only read"), "{err}");
    assert!(!text(&out.stdout).contains("=="), "a query ran");
}

/// Every built-in query is a detection too: a stable id and ATT&CK tags (a
/// tactic and a technique), shown by `run --list`; a query of your own
/// without an id gets one from its name.
#[test]
fn built_in_queries_carry_ids_and_attack_tags() {
    let listing = text(&run(&["run", "--list"], "").stdout);
    let queries: Vec<&str> = listing.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(queries.len(), 106, "{listing}");
    let ids: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("id "))
        .collect();
    assert_eq!(ids.len(), 106, "{listing}");
    for line in &ids {
        let (id, tags) = line.split_once("  tags ").unwrap_or((line, ""));
        assert!(
            ["trailsql.cis.", "trailsql.forensics.", "trailsql.attack."]
                .iter()
                .any(|p| id.starts_with(p)),
            "{line}"
        );
        let tags: Vec<&str> = tags.split(", ").collect();
        assert!(
            tags.iter()
                .any(|t| t.starts_with("attack.") && !t.starts_with("attack.t")),
            "no tactic: {line}"
        );
        assert!(
            tags.iter().any(|t| t.starts_with("attack.t1")),
            "no technique: {line}"
        );
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 106);
    assert!(listing.contains(
        "forensics/trail-tampering  [high]  CloudTrail tampering\n    id trailsql.forensics.trail-tampering  tags attack.defense-evasion, attack.t1562.008\n"
    ));
    // One's own: the id from the name; a bad id refused.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("mine")).unwrap();
    let header = "-- title: T\n-- severity: low\n-- description: d\n";
    std::fs::write(
        dir.path().join("mine/quiet.sql"),
        format!("{header}SELECT 1 AS x FROM cloudtrail\n"),
    )
    .unwrap();
    let q = dir.path().to_str().unwrap();
    let listing = text(&run(&["--queries", q, "run", "--list"], "").stdout);
    assert!(
        listing.contains("mine/quiet  [low]  T\n    id trailsql.mine.quiet\n"),
        "{listing}"
    );
    std::fs::write(
        dir.path().join("mine/quiet.sql"),
        format!("-- id: two words\n{header}SELECT 1 AS x FROM cloudtrail\n"),
    )
    .unwrap();
    assert_fails_saying(&["--queries", q, "run", "--list"], "one word, no commas");
}

/// The README's table of the built-in queries by ATT&CK tactic is the
/// catalogue's: every query under each tactic it is tagged with, the counts
/// right, no tactic left out.
#[test]
fn readme_lists_the_built_in_queries_by_tactic() {
    use std::collections::{BTreeMap, BTreeSet};
    let readme = read(&repo().join("README.md"));
    let start = readme
        .find("<!-- detections by tactic")
        .expect("the README's tactic table");
    let end = readme[start..]
        .find("<!-- end of detections by tactic -->")
        .expect("its end")
        + start;
    let mut listed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in readme[start..end]
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| tactic"))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (tactic, count) = cells[1].split_once(" (").expect("tactic (count)");
        let names: BTreeSet<String> = cells[2]
            .split(", ")
            .map(|n| n.trim_matches('`').to_string())
            .collect();
        assert_eq!(
            count.trim_end_matches(')').parse::<usize>().unwrap(),
            names.len(),
            "{row}"
        );
        listed.insert(tactic.replace(' ', "-"), names);
    }
    let mut tagged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, q) in &Catalogue::load(None).unwrap().queries {
        for tag in &q.tags {
            if let Some(tactic) = tag.strip_prefix("attack.") {
                if !tactic.starts_with('t') || tactic.contains('-') {
                    tagged
                        .entry(tactic.to_string())
                        .or_default()
                        .insert(name.clone());
                }
            }
        }
    }
    assert_eq!(listed, tagged);
}

/// `run --all` on a terminal (a pseudo-terminal of 40 rows here): the
/// summary first, then each query that found something with the first
/// rows that share the screen and where the rest is; the same run into a
/// pipe or with --out-dir still gives every row.
#[test]
fn run_all_on_a_terminal_shows_the_summary_first_and_each_querys_first_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let made = crate::util::bin()
        .args(["sample", d, "--days", "5", "--events-per-day", "40"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let on_terminal = |args: &[&str]| {
        let out = crate::util::in_terminal_of(40, 200)
            .args(["--source", d])
            .args(args)
            .output()
            .expect("python3 runs");
        let shown = text(&out.stdout).replace("\r\n", "\n");
        assert!(out.status.success(), "{shown}\n{}", text(&out.stderr));
        shown
    };
    let shown = on_terminal(&["run", "--all"]);
    assert!(shown.starts_with("== summary\n"), "{shown}");
    // Findings by severity, with the first and last event seen: the root
    // sign-in and key of the sample's fourth day are its critical ones.
    let critical = shown
        .lines()
        .find(|l| l.starts_with("| critical "))
        .unwrap_or_else(|| panic!("{shown}"));
    let cells: Vec<&str> = critical.split('|').map(str::trim).collect();
    assert_eq!(
        cells[1..6],
        [
            "critical",
            "2",
            "2",
            "2025-10-04T21:03:00Z",
            "2025-10-04T21:05:12Z"
        ],
        "{critical}"
    );
    assert!(
        shown.contains("== queries that found something\n"),
        "{shown}"
    );
    // The queries that found nothing are counted, not listed one by one.
    let tally = shown
        .lines()
        .find(|l| l.contains(" found something, "))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        tally.contains("not run: attack/impossible-travel (needs --geoip FILE)"),
        "{tally}"
    );
    assert!(!shown.contains(": 0 findings"), "{shown}");
    // The pipe's answer: every query, every row, the summary last.
    let piped = run(&["--source", d, "run", "--all"], "");
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    let piped = text(&piped.stdout);
    assert!(piped.contains(": 0 findings"), "{piped}");
    assert!(piped.contains("\n== summary\n"), "{piped}");
    // Each query that found something has a section here, its rows cut to
    // its share of the screen (19 queries share 30 rows: 3 each) with the
    // way to all of them; the failed sign-ins' burst has 8.
    // The failed sign-ins' burst: its section, and the rows of it shown.
    let burst_in = |out: &str| -> (String, usize) {
        let section = out
            .split("== ")
            .find(|s| s.starts_with("forensics/failed-login-bursts [high]"))
            .unwrap_or_else(|| panic!("{out}"))
            .to_string();
        let rows = section.lines().filter(|l| l.contains("| carol ")).count();
        (section, rows)
    };
    let (burst, rows) = burst_in(&shown);
    assert_eq!(rows, 3, "{burst}");
    assert!(
        burst.contains("... 5 more rows: every row goes to --out-dir DIR (--max-rows 0"),
        "{burst}"
    );
    let (all, rows) = burst_in(&piped);
    assert_eq!(rows, 8, "{all}");
    // hunt: its summary, then each detection's first findings that fit.
    let hunted = on_terminal(&["hunt"]);
    assert_eq!(
        hunted.lines().find(|l| l.starts_with("== ")),
        Some("== detections that fired"),
        "{hunted}"
    );
    assert!(
        hunted.contains(" more rows: every row goes to -o FILE or --out-dir DIR"),
        "{hunted}"
    );
    // --max-rows decides the rows of each instead.
    let shown = on_terminal(&["--max-rows", "0", "run", "--all"]);
    let (burst, rows) = burst_in(&shown);
    assert_eq!(rows, 8, "{burst}");
}

/// Saved queries, `hunt` and `lookup` read the default source; with one
/// source given under a name, that one is read (as if unnamed); with
/// several named ones, which to read is asked for.
#[test]
fn one_named_source_is_the_one_saved_queries_read() {
    let src = crate::util::fixture_archive();
    let src = src.to_str().unwrap();
    let named = format!("prod={src}");
    for command in [
        &["run", "--all", "--area", "cis"][..],
        &["hunt"][..],
        &["lookup", "--event-name", "DeleteTable"][..],
    ] {
        let answer = |source: &str| {
            let mut args = vec!["--source", source, "--format", "csv"];
            args.extend_from_slice(command);
            let out = run(&args, "");
            assert!(out.status.success(), "{command:?}: {}", text(&out.stderr));
            text(&out.stdout)
        };
        let unnamed = answer(src);
        assert!(unnamed.lines().count() > 1, "{command:?}: {unnamed}");
        assert_eq!(answer(&named), unnamed, "{command:?}");
    }
    crate::util::assert_fails_saying(
        &[
            "--source",
            &named,
            "--source",
            &format!("dev={src}"),
            "run",
            "--all",
        ],
        "run reads one archive, and --source gave 2 named ones (prod, dev): give the one \
         to read without a name (--source PATH)",
    );
}
