//! The sample archive: deterministic, in the real layout, with its planted
//! incidents answerable; and `demo`, the README's first command.

use crate::util::{bin, csv_answer, run_area, run_area_with, text};

fn digest_of_tree(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(root).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn one_seed_gives_one_archive() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [&a, &b] {
        let st = bin()
            .args([
                "sample",
                d.path().to_str().unwrap(),
                "--days",
                "3",
                "--events-per-day",
                "40",
                "--seed",
                "7",
            ])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let (ta, tb) = (digest_of_tree(a.path()), digest_of_tree(b.path()));
    assert!(ta.len() > 20);
    assert!(ta == tb, "same seed, different archives");
    // Log files, hourly digest files beside them, and the public key.
    let logs = |p: &str| p.contains("/CloudTrail/") && p.contains("_CloudTrail_");
    let digests = |p: &str| p.contains("/CloudTrail-Digest/") && p.contains("_CloudTrail-Digest_");
    assert!(
        ta.iter().all(|(p, _)| p == "public-keys.json"
            || p == "sample-places.mmdb"
            || (p.starts_with("AWSLogs/") && p.ends_with(".json.gz") && (logs(p) || digests(p)))),
        "{:?}",
        ta.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    // 3 days and an hour of hourly digests, per account and region.
    assert_eq!(
        ta.iter().filter(|(p, _)| digests(p)).count(),
        6 * (3 * 24 + 1)
    );
    assert!(ta.iter().any(|(p, _)| logs(p)));
}

#[test]
fn planted_incidents_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(bin()
        .args(["sample", d, "--events-per-day", "20"])
        .status()
        .unwrap()
        .success());
    let q = |sql: &str| csv_answer(d, sql);
    assert_eq!(
        q("SELECT eventtime, useridentity.username AS u, sourceipaddress AS ip, errorcode FROM cloudtrail WHERE eventname = 'DeleteTable' ORDER BY eventtime"),
        "eventtime,u,ip,errorcode\n2025-10-20T03:02:41Z,bob,192.0.2.15,AccessDeniedException\n2025-10-20T03:14:07Z,alice,203.0.113.77,\n"
    );
    assert_eq!(
        q("SELECT useridentity.username AS u, count(*) AS n FROM cloudtrail WHERE eventname = 'ConsoleLogin' AND errormessage = 'Failed authentication' GROUP BY 1 ORDER BY 1"),
        "u,n\nalice,4\ncarol,8\n"
    );
    assert_eq!(
        q("SELECT eventname FROM cloudtrail WHERE useridentity.type = 'Root' ORDER BY eventtime"),
        "eventname\nConsoleLogin\nCreateAccessKey\n"
    );
    assert_eq!(
        q("SELECT useridentity.invokedby AS by, count(*) AS n FROM cloudtrail WHERE eventname = 'TerminateInstances' GROUP BY 1 ORDER BY 1"),
        "by,n\nautoscaling.amazonaws.com,2\n,1\n"
    );
    // Logging stopped 10-27 22:05:31 and resumed 10-28 06:00:12: nothing in between.
    assert_eq!(
        q("SELECT count(*) AS n FROM cloudtrail WHERE recipientaccountid = '111122223333' AND awsregion = 'us-east-1' \
           AND eventtime > '2025-10-27T22:05:31Z' AND eventtime < '2025-10-28T06:00:12Z'"),
        "n\n0\n"
    );
    // The variety the issue asks for.
    assert_eq!(
        q("SELECT count(DISTINCT recipientaccountid) AS a, count(DISTINCT awsregion) AS r, count(DISTINCT eventsource) >= 20 AS s, \
           count(DISTINCT useridentity.type) AS t FROM cloudtrail"),
        "a,r,s,t\n2,3,true,6\n"
    );
    // The role chain: an Identity Center user, a hop into the other
    // account, and one more inside it; and what she did at its end.
    assert_eq!(
        q("SELECT access_key_id, role_arn, origin, origin_type, origin_path, hops FROM cloudtrail_sessions \
           WHERE origin = 'jane.doe@example.com' AND issued_by_call = 'AssumeRole' ORDER BY issued_at"),
        "access_key_id,role_arn,origin,origin_type,origin_path,hops\n\
         ASIA4PRODADMINJANE01,arn:aws:iam::444455556666:role/prod-admin,jane.doe@example.com,IdentityCenterUser,\
         jane.doe@example.com -> AWSReservedSSO_AdministratorAccess_5a1c3e9f0b2d4e6a -> prod-admin,2\n\
         ASIA4BILLINGEXPORT01,arn:aws:iam::444455556666:role/billing-export,jane.doe@example.com,IdentityCenterUser,\
         jane.doe@example.com -> AWSReservedSSO_AdministratorAccess_5a1c3e9f0b2d4e6a -> prod-admin -> billing-export,3\n"
    );
    assert_eq!(
        q("SELECT event_name, access_key_id, origin FROM cloudtrail_events \
           WHERE access_key_id IN ('ASIA4PRODADMINJANE01', 'ASIA4BILLINGEXPORT01') ORDER BY eventtime"),
        "event_name,access_key_id,origin\n\
         ListRoles,ASIA4PRODADMINJANE01,jane.doe@example.com\n\
         AssumeRole,ASIA4PRODADMINJANE01,jane.doe@example.com\n\
         GetSecretValue,ASIA4BILLINGEXPORT01,jane.doe@example.com\n\
         ListBuckets,ASIA4BILLINGEXPORT01,jane.doe@example.com\n"
    ); // The saved forensic queries find the planted deletions and root activity.
    let (out_dir, out) = run_area(d, "forensics");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = |name: &str| -> Vec<String> {
        let file = out_dir.path().join(format!("forensics/{name}.csv"));
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let deletions = rows("data-store-deletions");
    assert_eq!(deletions.len(), 2, "{deletions:?}");
    assert!(deletions[0].starts_with(
        "2025-10-20T03:02:41Z,111122223333,us-east-1,arn:aws:iam::111122223333:user/bob,"
    ));
    assert!(deletions[0].contains(",prod-orders,AccessDeniedException,denied or failed,"));
    assert!(deletions[1].starts_with(
        "2025-10-20T03:14:07Z,111122223333,us-east-1,arn:aws:iam::111122223333:user/alice,203.0.113.77,"
    ));
    assert!(deletions[1].contains(",prod-orders,,deleted,"));
    let root = rows("root-account-activity");
    assert_eq!(root.len(), 2, "{root:?}");
    assert!(
        root[0].contains(",ConsoleLogin,") && root[0].contains(",Success,No,"),
        "{root:?}"
    );
    assert!(root[1].contains(",CreateAccessKey,"), "{root:?}");
    assert!(
        root.iter().all(|r| r.starts_with("2025-10-25T21:0")),
        "{root:?}"
    );
    // Bob's termination, not Auto Scaling's two.
    let terminations = rows("instance-terminations");
    assert_eq!(terminations.len(), 1, "{terminations:?}");
    assert!(terminations[0].starts_with(
        "2025-10-09T15:42:09Z,111122223333,us-east-1,arn:aws:iam::111122223333:user/bob,"
    ));
    // Carol's eight failures in a minute; alice's four over eight minutes
    // are not a burst.
    let bursts = rows("failed-login-bursts");
    assert_eq!(bursts.len(), 8, "{bursts:?}");
    assert!(
        bursts
            .iter()
            .all(|r| r.contains(",carol,192.0.2.44,") && r.starts_with("2025-10-12T02:")),
        "{bursts:?}"
    );
    // The trail stopped, and the hours without a log file that followed.
    let tampering = rows("trail-tampering");
    assert_eq!(tampering.len(), 1, "{tampering:?}");
    assert!(tampering[0].starts_with("2025-10-27T22:05:31Z,111122223333,us-east-1,"));
    assert!(tampering[0].contains(",StopLogging,") && tampering[0].contains(",stop logging,"));
    let gaps = rows("delivery-gaps");
    assert!(
        gaps.iter().any(
            |r| r == "2025-10-27T23:00:00Z,111122223333,us-east-1,,,,,,,2025-10-28T06:00:00Z,7"
        ),
        "{gaps:?}"
    );
    // Alice's deletion came from an address she had never used.
    let new_ips = rows("new-source-ip");
    assert!(
        new_ips.iter().any(|r| r.starts_with(
            "2025-10-20T03:14:07Z,111122223333,us-east-1,arn:aws:iam::111122223333:user/alice,203.0.113.77,dynamodb.amazonaws.com,DeleteTable,"
        )),
        "{new_ips:?}"
    );
}

/// On the default sample (what `trailsql sample` and `demo` write), the
/// attack and forensic detections find the planted incidents and nothing of
/// the ordinary activity around them: engineers, the pipeline deploying,
/// the administrator, AWS Config, a read-only scanner with its refusals,
/// application instances and their agents. (The CIS controls keep their
/// published meaning and list ordinary changes too.)
#[test]
fn detections_are_quiet_on_the_default_sample() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(bin().args(["sample", d]).status().unwrap().success());
    // With the sample's own places database, as the README runs it.
    let places = dir.path().join("sample-places.mmdb");
    let geoip = ["--geoip", places.to_str().unwrap()];
    let mut found = Vec::new();
    for area in ["attack", "forensics"] {
        let (out_dir, out) = run_area_with(d, area, &geoip);
        assert!(out.status.success(), "{}", text(&out.stderr));
        for entry in std::fs::read_dir(out_dir.path().join(area)).unwrap() {
            let file = entry.unwrap().path();
            let name = file.file_stem().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&file).unwrap();
            found.extend(
                text.lines()
                    .skip(1)
                    .map(|l| format!("{area}/{name}: {}", &l[..20])),
            );
        }
    }
    found.sort();
    let mut planted = vec![
        // jane's hop into the other account, seen from there.
        "attack/cross-account-role-use: 2025-10-15T09:14:40Z",
        // alice's sign-in from Brazil, two hours after one from Berlin.
        "attack/impossible-travel: 2025-10-17T10:41:37Z",
        "attack/new-country: 2025-10-17T10:41:37Z",
        "attack/new-network: 2025-10-17T10:41:37Z",
        "forensics/new-source-ip: 2025-10-17T10:41:37Z",
        "attack/root-access-key-created: 2025-10-25T21:05:12Z",
        "attack/root-console-without-mfa: 2025-10-25T21:03:00Z",
        "forensics/data-store-deletions: 2025-10-20T03:02:41Z",
        "forensics/data-store-deletions: 2025-10-20T03:14:07Z",
        "forensics/delivery-gaps: 2025-10-27T23:00:00Z",
        "forensics/instance-terminations: 2025-10-09T15:42:09Z",
        "forensics/new-iam-credentials: 2025-10-25T21:05:12Z",
        "forensics/new-source-ip: 2025-10-20T03:14:07Z",
        "forensics/root-account-activity: 2025-10-25T21:03:00Z",
        "forensics/root-account-activity: 2025-10-25T21:05:12Z",
        "forensics/trail-tampering: 2025-10-27T22:05:31Z",
    ];
    // Carol's eight failed sign-ins, six seconds apart.
    let bursts: Vec<String> = (0..8)
        .map(|k| {
            format!(
                "forensics/failed-login-bursts: 2025-10-12T02:17:{:02}Z",
                5 + 6 * k
            )
        })
        .collect();
    planted.extend(bursts.iter().map(String::as_str));
    planted.sort();
    assert_eq!(found, planted);
    // The CIS controls list ordinary changes and refusals, as published;
    // their tuned variants leave out the scanner's refused reads and the
    // pipeline's (Terraform's) changes, and keep the people's.
    let (cis_dir, out) = run_area(d, "cis");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = |name: &str| -> Vec<String> {
        std::fs::read_to_string(cis_dir.path().join(format!("cis/{name}.csv")))
            .unwrap()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect()
    };
    let (denied, tuned) = (
        rows("unauthorized-api-calls"),
        rows("unauthorized-api-calls-tuned"),
    );
    assert!(denied
        .iter()
        .any(|r| r.contains("assumed-role/security-audit/")));
    assert!(!tuned.is_empty() && tuned.len() < denied.len());
    // Every refusal kept is a change (read_only false) by a person or the
    // pipeline, not a read of the scanner's.
    let file = cis_dir.path().join("cis/unauthorized-api-calls-tuned.csv");
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "read_only")
        .unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        assert_eq!(&r[at], "false", "{r:?}");
        assert!(!r[3].contains("assumed-role/security-audit/"), "{r:?}");
    }
    for name in [
        "security-group-changes",
        "iam-policy-changes",
        "s3-bucket-policy-changes",
    ] {
        let (all, by_hand) = (rows(name), rows(&format!("{name}-tuned")));
        assert!(all.iter().any(|r| r.contains("user/ci-deployer")), "{name}");
        assert!(by_hand.len() < all.len(), "{name}");
        assert!(
            by_hand
                .iter()
                .all(|r| all.contains(r) && !r.contains("user/ci-deployer")),
            "{name}"
        );
    }
}

#[test]
fn demo_answers_the_first_question() {
    let cache = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("demo")
        .env("XDG_CACHE_HOME", cache.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains("203.0.113.77") && s.contains("alice") && s.contains("prod-orders"),
        "{s}"
    );
    assert!(s.contains("trailsql --source"), "{s}");
    assert!(cache
        .path()
        .join("trailsql/sample-archive/.complete")
        .exists());
    // The hints work as printed: this binary is not on the PATH here, so
    // they name it by its path; with its folder on the PATH, as `trailsql`.
    let me = std::fs::canonicalize(env!("CARGO_BIN_EXE_trailsql")).unwrap();
    assert!(
        s.contains(&format!("\n  {} --source ", me.display())),
        "{s}"
    );
    // The hunt it suggests runs as printed, placing alice's sign-in from
    // Brazil with the sample's own database.
    let hunt = s
        .lines()
        .skip_while(|l| !l.starts_with("Hunt with every detection"))
        .nth(1)
        .unwrap_or_else(|| panic!("{s}"));
    let words: Vec<&str> = hunt.split_whitespace().collect();
    assert!(hunt.contains("sample-places.mmdb"), "{hunt}");
    let out = bin()
        .args(&words[1..])
        .args(["--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let timeline = text(&out.stdout);
    for id in [
        "trailsql.attack.impossible-travel",
        "trailsql.attack.new-country",
    ] {
        assert!(
            timeline
                .lines()
                .any(|l| l.contains(id) && l.contains("203.0.113.45")),
            "{id}: {timeline}"
        );
    }
    // So does the report and evidence pack it suggests: every log file
    // read is checked against its digests, all of them as written.
    let report = s
        .lines()
        .skip_while(|l| !l.starts_with("A report to read"))
        .nth(1)
        .unwrap_or_else(|| panic!("{s}"));
    let words: Vec<&str> = report.split_whitespace().collect();
    let out = bin().args(&words[1..]).output().unwrap();
    let said = text(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("checked against their digest files"),
        "{said}"
    );
    assert!(!said.contains("not shown to be"), "{said}");
    let page = cache.path().join("trailsql/sample-report.html");
    let pack = cache.path().join("trailsql/sample-evidence/manifest.json");
    assert!(page.is_file() && pack.is_file(), "{report}");
    let on_path = bin()
        .arg("demo")
        .env("XDG_CACHE_HOME", cache.path())
        .env("PATH", me.parent().unwrap())
        .output()
        .unwrap();
    let s = text(&on_path.stdout);
    assert!(s.contains("\n  trailsql --source "), "{s}");
    assert!(s.contains("\n  trailsql verify "), "{s}");
}

/// A sample shorter than the incidents' 28 days holds every one of them
/// but the stopped trail, which it says it left out, in their order of
/// days, within its days.
#[test]
fn a_short_sample_holds_the_incidents_in_order_and_names_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = bin()
        .args(["sample", d, "--days", "5", "--events-per-day", "10"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        text(&out.stderr)
            .contains("left out, as a sample under 28 days is too short for it: the trail stopped"),
        "{}",
        text(&out.stderr)
    );
    let planted = csv_answer(
        d,
        "SELECT eventname, CAST(eventtime AS DATE) AS day FROM cloudtrail \
         WHERE (eventname IN ('TerminateInstances', 'DeleteTable', 'StopLogging', 'StartLogging', 'CreateAccessKey') \
                AND recipientaccountid = '111122223333' AND awsregion = 'us-east-1' \
                AND (eventname <> 'TerminateInstances' OR useridentity.username = 'bob' \
                     OR useridentity.invokedby = 'autoscaling.amazonaws.com') \
                AND (eventname <> 'CreateAccessKey' OR useridentity.type = 'Root')) \
            OR (eventname = 'ConsoleLogin' AND errormessage = 'Failed authentication') \
         ORDER BY eventtime",
    );
    let rows: Vec<(&str, &str)> = planted
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').unwrap())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let count = |name: &str| names.iter().filter(|n| **n == name).count();
    let first = |name: &str| names.iter().position(|n| *n == name).unwrap();
    let last = |name: &str| names.iter().rposition(|n| *n == name).unwrap();
    assert_eq!(
        [
            count("TerminateInstances"),
            count("ConsoleLogin"),
            count("DeleteTable"),
            count("CreateAccessKey"),
            count("StopLogging") + count("StartLogging")
        ],
        [3, 12, 2, 1, 0],
        "{planted}"
    );
    assert!(
        last("TerminateInstances") < first("DeleteTable"),
        "{planted}"
    );
    assert!(last("ConsoleLogin") < first("DeleteTable"), "{planted}");
    assert!(last("DeleteTable") < first("CreateAccessKey"), "{planted}");
    // The days as scaled: terminations and logins on the 2nd, deletions on
    // the 3rd, root on the 4th.
    let day_of = |name: &str| rows[first(name)].1;
    assert_eq!(
        [
            day_of("TerminateInstances"),
            day_of("ConsoleLogin"),
            day_of("DeleteTable"),
            day_of("CreateAccessKey")
        ],
        ["2025-10-02", "2025-10-02", "2025-10-03", "2025-10-04"],
        "{planted}"
    );
}
