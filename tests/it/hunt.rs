//! `trailsql hunt --sigma PATH`: Sigma rules written for these tests
//! (tests/data/sigma) over the fixture archive, in one pass; each finding
//! is pinned by event id and rule id, with near misses beside them.

use crate::util::{assert_fails_saying, fixture_archive, hunt_sigma, repo, run, text};

fn hunt(extra: &[&str]) -> std::process::Output {
    hunt_sigma(&fixture_archive(), "sigma", extra)
}

/// (event id's last digit, rule id's last two digits) of each finding.
fn pairs(csv: &str) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (event, rule) = (at("event_id"), at("rule_id"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let tail = |s: &str, n: usize| s[s.len() - n..].to_string();
            (tail(&r[event], 1), tail(&r[rule], 2))
        })
        .collect()
}

#[test]
fn sigma_rules_find_their_events_on_a_timeline() {
    let out = hunt(&["--stats"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    assert!(
        csv.starts_with(
            "eventtime,account,region,actor,source_ip,event_source,event_name,target,error_code,\
             rule_id,rule_title,level,tags,event_id\n"
        ),
        "{csv}"
    );
    // In time order: root's sign-in (3); alice's deletion (1) by three
    // rules; the stopped trail (4) by two; the scale-in (5). bob's denied
    // deletion (2) is the near miss of 01 (errorCode: null) and 04 (not
    // denied); 08 asks for a literal star; 10 for "evil" in base64 (the
    // root sign-in's agent holds it plain); 12 compares two fields.
    let want: Vec<(String, String)> = [
        ("3", "05"),
        ("1", "01"),
        ("1", "03"),
        ("1", "04"),
        ("4", "02"),
        ("4", "06"),
        ("5", "07"),
        ("5", "12"),
    ]
    .iter()
    .map(|(e, r)| (e.to_string(), r.to_string()))
    .collect();
    assert_eq!(pairs(&csv), want, "{csv}");
    assert!(
        csv.contains(",A DynamoDB table was deleted,high,\"attack.impact, attack.t1485\","),
        "{csv}"
    );
    let err = text(&out.stderr);
    // Each rule that cannot run is named with its file and why.
    for (file, why) in [("windash.yml", "windash"), ("broken.yml", "YAML")] {
        assert!(
            err.lines()
                .any(|l| l.contains(file) && l.contains(why) && l.contains("not run")),
            "{file}: {err}"
        );
    }
    assert!(
        err.contains(
            "14 rule files read: 10 rules and 1 correlation to run, 1 for other log sources, 2 refused"
        ),
        "{err}"
    );
    assert!(err.contains("8 findings"), "{err}");
    // One pass: every log file read once, whatever the number of rules.
    assert!(err.contains("read 3 of 3 log files"), "{err}");
}

#[test]
fn min_level_strict_and_fail_on_findings() {
    let out = hunt(&["--min-level", "high", "--fail-on-findings"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let pairs = pairs(&text(&out.stdout));
    assert_eq!(
        pairs,
        [("3", "05"), ("1", "01"), ("4", "02")]
            .iter()
            .map(|(e, r)| (e.to_string(), r.to_string()))
            .collect::<Vec<_>>()
    );
    assert!(
        text(&out.stderr).contains("5 below --min-level"),
        "{}",
        text(&out.stderr)
    );
    // A window with no event: nothing found, exit 0 even so.
    let out = hunt(&["--until", "2001-01-01", "--fail-on-findings"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("0 findings"));
    // --strict: the refused rules are an error.
    let out = hunt(&["--strict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("2 Sigma rules cannot be run (--strict)"));
    // A path that is not there.
    let out = run(
        &[
            "--source",
            fixture_archive().to_str().unwrap(),
            "hunt",
            "--sigma",
            "/no/such/rules",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/no/such/rules: no such file or folder"));
}

/// The same findings, Sigma's and the built-in detections', from the
/// archive converted to Parquet.
#[test]
fn a_converted_dataset_gives_the_same_findings() {
    let dest = tempfile::tempdir().unwrap();
    let d = dest.path().join("ds");
    let out = run(
        &[
            "convert",
            fixture_archive().to_str().unwrap(),
            d.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rules = repo().join("tests/data/sigma");
    let on = |source: &str| {
        let out = run(
            &[
                "--source",
                source,
                "--format",
                "csv",
                "hunt",
                "--sigma",
                rules.to_str().unwrap(),
            ],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // The Sigma rules' 8 findings and the built-in detections' 10.
    let raw = on(fixture_archive().to_str().unwrap());
    assert_eq!(pairs(&raw).len(), 8 + 10);
    assert_eq!(on(d.to_str().unwrap()), raw);
}

/// On a terminal: the summary first (detections by level, top actors and
/// addresses, ATT&CK tactics, findings per day), then each detection that
/// fired, highest level first, with its first findings; in a pipe the
/// timeline alone. `--out-dir` writes the timeline, one file per detection
/// and the summary.
#[test]
fn a_summary_on_a_terminal_and_files_in_out_dir() {
    let rules = repo().join("tests/data/sigma");
    let shown = text(&crate::util::run_in_terminal(&[
        "--source",
        fixture_archive().to_str().unwrap(),
        "--progress",
        "never",
        "hunt",
        "--no-builtins",
        "--sigma",
        rules.to_str().unwrap(),
    ]));
    let at = |heading: &str| {
        shown
            .find(heading)
            .unwrap_or_else(|| panic!("{heading}: {shown}"))
    };
    let order = [
        at("== detections that fired"),
        at("== top actors"),
        at("== top source addresses"),
        at("== ATT&CK tactics"),
        at("== findings per day"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{shown}");
    // Then a section per detection that fired (the 8 the out-dir below
    // has a file for), highest level first, each under its id, level and
    // title.
    let sections: Vec<&str> = shown[at("== findings per day")..]
        .lines()
        .filter(|l| l.starts_with("== ") && l.contains(" [") && l.contains(" finding"))
        .collect();
    assert_eq!(sections.len(), 8, "{shown}");
    assert!(sections[0].contains(" [critical] "), "{sections:?}");
    assert!(
        sections.last().unwrap().contains(" [informational] "),
        "{sections:?}"
    );
    // Levels highest first; alice's three findings top the actors; a
    // technique tag (attack.t1485) is not a tactic.
    assert!(at("| critical ") < at("| informational "), "{shown}");
    assert!(
        shown.contains("| arn:aws:iam::111122223333:user/alice "),
        "{shown}"
    );
    assert!(shown.contains("| attack.defense-evasion ") && !shown.contains("| attack.t1485 "));
    assert!(
        shown.contains("| 2023-10-15 | 6 ") && shown.contains("| 2023-10-17 | 2 "),
        "{shown}"
    );
    // In a pipe: the timeline only.
    let out = hunt(&[]);
    assert!(!text(&out.stdout).contains("== "), "{}", text(&out.stdout));
    // --out-dir.
    let dir = tempfile::tempdir().unwrap();
    let out = hunt(&["--out-dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let timeline = std::fs::read_to_string(dir.path().join("timeline.csv")).unwrap();
    assert_eq!(timeline, text(&out.stdout));
    let per_rule = crate::util::files_in(&dir.path().join("detections"));
    assert_eq!(per_rule.len(), 8, "{per_rule:?}");
    let deleted = std::fs::read_to_string(
        dir.path()
            .join("detections/0b1f7d3e-0000-4000-8000-00000000a001.csv"),
    )
    .unwrap();
    assert_eq!(deleted.lines().count(), 2, "{deleted}");
    assert!(
        deleted.contains("e0000000-0000-4000-8000-000000000001"),
        "{deleted}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert!(
        summary.starts_with(
            "level,rule_title,findings,first_seen,last_seen,actors\ncritical,Root used,1,"
        ),
        "{summary}"
    );
}

/// Without --no-builtins the saved queries that name events are
/// detections too, under their ids, levels and ATT&CK tags, on the same
/// timeline as the Sigma rules' findings.
#[test]
fn built_in_detections_join_the_timeline() {
    let source = fixture_archive().display().to_string();
    let out = run(&["--source", &source, "--format", "csv", "hunt"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let found: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[13][r[13].len() - 1..].to_string(),
                r[9].to_string(),
                r[11].to_string(),
            )
        })
        .collect();
    let want = [
        ("3", "trailsql.attack.root-console-without-mfa", "critical"),
        ("3", "trailsql.cis.console-signin-without-mfa", "medium"),
        ("3", "trailsql.cis.root-account-usage", "high"),
        ("3", "trailsql.forensics.root-account-activity", "high"),
        ("2", "trailsql.cis.unauthorized-api-calls", "medium"),
        ("2", "trailsql.cis.unauthorized-api-calls-tuned", "medium"),
        // Denied deletions count too (the query says "denied or failed").
        ("2", "trailsql.forensics.data-store-deletions", "high"),
        ("1", "trailsql.forensics.data-store-deletions", "high"),
        ("4", "trailsql.cis.cloudtrail-config-changes", "high"),
        ("4", "trailsql.forensics.trail-tampering", "high"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(e, r, l)| (e.to_string(), r.to_string(), l.to_string()))
        .collect();
    assert_eq!(found, want, "{csv}");
    assert!(
        csv.contains("\"attack.defense-evasion, attack.t1562.008\""),
        "{csv}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "99 built-in detections run; 2 that count or group, 5 that need a parameter or --geoip"
        ),
        "{err}"
    );
    // With the Sigma rules: both, on one timeline in time order.
    let rules = repo().join("tests/data/sigma");
    let out = run(
        &[
            "--source",
            &source,
            "--format",
            "csv",
            "hunt",
            "--sigma",
            rules.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let both = text(&out.stdout);
    assert_eq!(both.lines().count(), 1 + 8 + 10, "{both}");
    let times: Vec<&str> = both.lines().skip(1).map(|l| &l[..20]).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert!(text(&out.stderr).contains("18 findings"));
    // --min-level applies to both.
    let out = run(
        &[
            "--source",
            &source,
            "--format",
            "csv",
            "hunt",
            "--min-level",
            "high",
        ],
        "",
    );
    assert_eq!(text(&out.stdout).lines().count(), 1 + 7);
    // Nothing to hunt with.
    let out = run(&["--source", &source, "hunt", "--no-builtins"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("needs Sigma rules"));
}

/// `hunt --list`: every detection with its id, title, level, tags, kind,
/// source and whether it runs (and why not), in any format.
#[test]
fn list_shows_every_detection_and_why_one_would_not_run() {
    let rules = repo().join("tests/data/sigma-correlate");
    let out = run(
        &[
            "--format",
            "csv",
            "hunt",
            "--list",
            "--sigma",
            rules.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "title", "level", "tags", "kind", "source", "runs"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let row = |id: &str| {
        rows.iter()
            .find(|r| r[0] == id)
            .unwrap_or_else(|| panic!("{id}: {csv}"))
            .clone()
    };
    // 106 saved queries, 5 rules, 6 correlations, 2 refused.
    assert_eq!(rows.len(), 106 + 5 + 6 + 2, "{csv}");
    let trail = row("trailsql.forensics.trail-tampering");
    assert_eq!(
        trail[2..],
        [
            "high",
            "attack.defense-evasion, attack.t1562.008",
            "saved query",
            "built-in",
            "yes"
        ]
    );
    assert!(row("trailsql.forensics.delivery-gaps")[6].starts_with("no: it counts or groups"));
    assert!(row("trailsql.forensics.access-key-activity")[6].starts_with("no: needs a parameter"));
    assert!(row("trailsql.forensics.origin-activity")[6].starts_with("no: needs a parameter"));
    let failure = row("0b1f7d3e-0000-4000-8000-00000000c001");
    assert_eq!(
        failure[4..],
        [
            "sigma rule",
            &rules.join("console-failure.yml").display().to_string(),
            "only feeds a correlation"
        ]
    );
    assert_eq!(
        row("0b1f7d3e-0000-4000-8000-00000000c103")[4],
        "sigma correlation"
    );
    assert!(rows
        .iter()
        .any(|r| r[5].ends_with("refused.yml")
            && r[6].contains("\"sequence\" is not one of Sigma's")));
    // --no-builtins: the Sigma rules alone.
    let out = run(
        &[
            "hunt",
            "--list",
            "--no-builtins",
            "--format",
            "csv",
            "--sigma",
            rules.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(text(&out.stdout).lines().count(), 1 + 5 + 6 + 2);
}

/// An Event-history download hunts like an archive: the built-in
/// detections find its events.
#[test]
fn an_event_history_file_is_hunted_too() {
    let file = repo().join("tests/data/history/console-download.csv");
    let out = run(
        &[
            "--source",
            file.to_str().unwrap(),
            "--format",
            "csv",
            "hunt",
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let found: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[13].to_string(), r[9].to_string())
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "000002bd-0000-4000-8000-000000000701",
                "trailsql.cis.console-signin-without-mfa"
            ),
            (
                "000002c0-0000-4000-8000-000000000704",
                "trailsql.cis.unauthorized-api-calls"
            ),
            (
                "000002c0-0000-4000-8000-000000000704",
                "trailsql.cis.unauthorized-api-calls-tuned"
            ),
            (
                "000002c0-0000-4000-8000-000000000704",
                "trailsql.forensics.instance-terminations"
            ),
        ]
        .map(|(e, r)| (e.to_string(), r.to_string()))
    );
}

/// `-o FILE` gets the whole timeline in each format.
#[test]
fn the_timeline_goes_whole_to_an_output_file() {
    let source = fixture_archive().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    for format in ["ndjson", "parquet"] {
        let file = dir.path().join(format!("timeline.{format}"));
        let out = run(
            &[
                "--source",
                &source,
                "--format",
                format,
                "-o",
                file.to_str().unwrap(),
                "hunt",
            ],
            "",
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let rows = match format {
            "ndjson" => std::fs::read_to_string(&file).unwrap().lines().count(),
            _ => {
                let sql = format!(
                    "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION '{}'; \
                     SELECT count(*) FROM t WHERE rule_id LIKE 'trailsql.%'",
                    file.display()
                );
                let out = run(&["--format", "csv", "-e", &sql], "");
                text(&out.stdout).lines().last().unwrap().parse().unwrap()
            }
        };
        assert_eq!(rows, 10, "{format}");
    }
}

/// `--list` picks by ATT&CK tactic, technique (its sub-techniques
/// included) and level, for `run` and `hunt` alike.
#[test]
fn lists_pick_by_tactic_technique_and_level() {
    let names = |args: &[&str]| -> Vec<String> {
        let out = run(args, "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split("  ").next().unwrap().to_string())
            .collect()
    };
    // T1562 takes in T1562.008 (logs) and T1562.007 (firewalls).
    let evasion = names(&["run", "--list", "--technique", "T1562.008"]);
    assert!(
        evasion.contains(&"forensics/trail-tampering".to_string()),
        "{evasion:?}"
    );
    assert!(
        evasion.contains(&"attack/vpc-flow-logs-deleted".to_string()),
        "{evasion:?}"
    );
    assert!(
        !evasion.contains(&"cis/nacl-changes".to_string()),
        "{evasion:?}"
    );
    let wider = names(&["run", "--list", "--technique", "t1562"]);
    assert!(wider.contains(&"cis/nacl-changes".to_string()) && wider.len() > evasion.len());
    // A tactic, and a level at or above.
    let credential = names(&[
        "run",
        "--list",
        "--tactic",
        "credential-access",
        "--level",
        "high",
    ]);
    assert_eq!(
        credential,
        [
            "attack/console-login-after-failures",
            "attack/instance-credentials-elsewhere",
            "attack/parameters-mass-decryption",
            "attack/secrets-mass-retrieval",
            "attack/traffic-mirroring",
            "forensics/failed-login-bursts"
        ]
    );
    // hunt --list, with the Sigma rules.
    let rules = repo().join("tests/data/sigma-correlate");
    let out = run(
        &[
            "--format",
            "csv",
            "hunt",
            "--list",
            "--tactic",
            "credential-access",
            "--sigma",
            rules.to_str().unwrap(),
        ],
        "",
    );
    let csv = text(&out.stdout);
    assert!(
        csv.contains("0b1f7d3e-0000-4000-8000-00000000c101,Sign-in failures in a burst"),
        "{csv}"
    );
    assert!(
        !csv.contains("refused.yml") && !csv.contains("trailsql.cis.vpc-changes"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.contains("attack.credential-access")),
        "{csv}"
    );
    // Asked without --list, or with a level that is not one.
    assert_fails_saying(&["run", "--tactic", "impact"], "--list");
    assert_fails_saying(
        &["run", "--list", "--level", "severe"],
        "one of informational",
    );
}

/// `hunt --param` reaches every built-in detection that takes the
/// parameter (an allowlist here); one no detection takes is refused.
#[test]
fn hunt_passes_parameters_to_the_built_in_detections() {
    let fixture = repo().join("tests/data/saved/attack/lambda-code-overwritten");
    let source = fixture.display().to_string();
    let lambda_rows = |extra: &[&str]| {
        let mut args = vec!["--source", &source, "--format", "csv", "hunt"];
        args.extend_from_slice(extra);
        let out = run(&args, "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .filter(|l| l.contains("trailsql.attack.lambda-code-overwritten"))
            .count()
    };
    assert_eq!(lambda_rows(&[]), 2);
    // Emptied, the deployment tools' list lets Terraform's update through.
    assert_eq!(lambda_rows(&["--param", "allow_tools="]), 3);
    assert_eq!(
        lambda_rows(&["--param", "allow_principals=*:user/mallory,*:user/alice"]),
        0
    );
    let out = run(&["--source", &source, "hunt", "--param", "nope=1"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no built-in detection takes the parameter \"nope\""),
        "{}",
        text(&out.stderr)
    );
}
