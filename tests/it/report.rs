//! `--report FILE.html`: one self-contained page of a run. Read as text
//! here (what it holds, that nothing in it is fetched, that log text is
//! escaped) and rendered by a real headless browser (Chromium, installed
//! from the distribution's packages where it is missing and the tests may
//! install; skipped, saying so, where none can be had): the DOM the
//! browser built has the sections and counts, charts with bars, and none
//! of the hostile log text turned into elements or run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::util::{run, text};

/// A user agent that would be an image with a handler, a script and a
/// closed table if it were markup.
const AGENT: &str = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"></td></tr></table>";
/// A bucket name that would end the comment and open an SVG.
const BUCKET: &str = "--><svg onload=\"document.title='pwned'\">";

/// An archive of three events: two calls with the hostile text on one day,
/// a sign-in on the next.
fn archive() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let day = |d: &str| {
        let p = dir.path().join(format!(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/{d}"
        ));
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let record = |time: &str, name: &str, id: &str| {
        serde_json::json!({
            "eventVersion": "1.09",
            "eventTime": time,
            "eventSource": "s3.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "userAgent": AGENT,
            "userIdentity": {"type": "IAMUser", "userName": "mallory",
                "arn": "arn:aws:iam::111122223333:user/mallory", "accountId": "111122223333"},
            "requestParameters": {"bucketName": BUCKET},
            "eventID": id,
            "recipientAccountId": "111122223333"
        })
    };
    std::fs::write(
        day("01").join("111122223333_CloudTrail_us-east-1_20251001T1005Z_reportREPORT0001.json"),
        serde_json::json!({"Records": [
            record("2025-10-01T10:00:00Z", "DeleteBucketPolicy", "report-1"),
            record("2025-10-01T10:01:00Z", "PutBucketAcl", "report-2"),
        ]})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        day("02").join("111122223333_CloudTrail_us-east-1_20251002T1005Z_reportREPORT0002.json"),
        serde_json::json!({"Records": [record("2025-10-02T09:00:00Z", "DeleteBucket", "report-3")]})
            .to_string(),
    )
    .unwrap();
    dir
}

/// A folder of two saved queries of the user's: bucket changes (high) and
/// one that finds nothing (low).
fn queries() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("mine")).unwrap();
    std::fs::write(
        dir.path().join("mine/bucket-changes.sql"),
        "-- title: Bucket changes\n-- severity: high\n\
         -- tags: attack.defense-evasion, attack.t1562\n\
         -- description: every change to a bucket's policy, ACL or existence\n\
         -- param: who = % | the user, a LIKE pattern\n\
         SELECT eventtime, account, region, actor, source_ip, event_source, event_name, \
         json_extract_scalar(requestparameters, '$.bucketName') AS target, error_code, \
         user_agent, event_id FROM cloudtrail_events \
         WHERE eventtime >= $since AND eventtime < $until AND event_name LIKE '%Bucket%' \
         AND actor LIKE $who ORDER BY eventtime, event_id\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mine/needs-key.sql"),
        "-- title: Needs a key\n-- severity: low\n-- description: one key's calls\n\
         -- param: key | the access key\n\
         SELECT eventtime, account, region, actor, source_ip, event_source, event_name, \
         NULL AS target, error_code, event_id FROM cloudtrail_events \
         WHERE eventtime >= $since AND eventtime < $until AND access_key_id = $key\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mine/nothing.sql"),
        "-- title: Nothing at all\n-- severity: low\n-- description: finds nothing\n\
         SELECT eventtime, account, region, actor, source_ip, event_source, event_name, \
         NULL AS target, error_code, event_id FROM cloudtrail_events \
         WHERE eventtime >= $since AND eventtime < $until AND event_name = 'NoSuchCall'\n",
    )
    .unwrap();
    dir
}

/// `run bucket-changes nothing --report` over the archive, with `options`
/// before `run`: the page.
fn report_with(options: &[&str]) -> (tempfile::TempDir, PathBuf) {
    report_with_run(options, &["bucket-changes", "nothing"])
}

/// `run PICKED --report` over the archive, with `options` before `run`.
fn report_with_run(options: &[&str], picked: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let src = archive();
    let q = queries();
    let out = tempfile::tempdir().unwrap();
    let page = out.path().join("report.html");
    let mut args = vec![
        "--source",
        src.path().to_str().unwrap(),
        "--queries",
        q.path().to_str().unwrap(),
    ];
    args.extend_from_slice(options);
    args.push("run");
    args.extend_from_slice(picked);
    args.extend(["--report", page.to_str().unwrap()]);
    let done = run(&args, "");
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        text(&done.stderr).contains("wrote the report to"),
        "{}",
        text(&done.stderr)
    );
    (out, page)
}

fn report() -> (tempfile::TempDir, PathBuf) {
    report_with(&[])
}

#[test]
fn the_report_holds_the_run_and_fetches_nothing() {
    let (_dir, page) = report();
    let html = std::fs::read_to_string(&page).unwrap();
    // Nothing to fetch: no element or style that names another file.
    for fetch in [
        "src=\"",
        "href=\"http",
        "@import",
        "url(",
        "<link",
        "<iframe",
    ] {
        assert!(!html.contains(fetch), "{fetch}");
    }
    assert!(html.contains("default-src 'none'"));
    // One script, ours; the hostile text is there, as text.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("<img") && !html.contains("<svg onload"));
    assert!(html.contains("&lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;"));
    // What was run: both queries, the findings, the parameter's value, the
    // query's text, each event's full record.
    assert!(html.contains("mine/bucket-changes") && html.contains("mine/nothing"));
    assert!(html.contains("<p class=\"count\">3 findings</p>"), "{html}");
    assert!(html.contains("<td>who</td><td>%</td>"));
    assert!(html.contains("json_extract_scalar(requestparameters, &#39;$.bucketName&#39;)"));
    assert_eq!(
        html.matches("&quot;eventID&quot;: &quot;report-").count(),
        3
    );
    // Two days of findings, one bar each; the tactic of the tags.
    assert!(html.contains("<title>2025-10-01 high: 2</title>"), "{html}");
    assert!(html.contains("<title>2025-10-02 high: 1</title>"));
    assert!(html.contains("<td>defense-evasion</td><td>3</td>"));
    // A query left out of `run --all` says why, once.
    let (_dir, page) = report_with_run(&[], &["--all", "--area", "mine"]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<p>not run: needs --param key=VALUE.</p>"),
        "{html}"
    );
    assert!(!html.contains("not run: not run"), "{html}");
    // Countries only with a database that places the addresses.
    assert!(!html.contains("id=\"countries\""));
    let dbs = crate::places::databases();
    let city = dbs.path().join("city.mmdb");
    let (_dir, page) = report_with(&["--geoip", city.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    let countries = html
        .split("id=\"countries\"")
        .nth(1)
        .expect("a countries chart");
    assert!(countries.starts_with(" role=\"img\""), "{countries}");
    assert!(
        countries.contains("class=\"label\">DE<title>DE</title>"),
        "{countries}"
    );
}

/// Chromium's binary, installed from the distribution's packages when
/// missing and the tests run as root; None (after saying why) when there
/// is none and none can be installed.
pub(crate) fn chromium() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let find = || {
                ["chromium", "chromium-browser", "google-chrome"]
                    .iter()
                    .find_map(|name| {
                        let out = Command::new("sh")
                            .args(["-c", &format!("command -v {name}")])
                            .output()
                            .ok()?;
                        out.status
                            .success()
                            .then(|| PathBuf::from(text(&out.stdout).trim()))
                    })
            };
            if let Some(found) = find() {
                return Some(found);
            }
            let root = Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| text(&o.stdout).trim() == "0");
            if root {
                eprintln!("NOTE: installing chromium from the distribution's packages for the report tests");
                let _ = Command::new("apt-get")
                    .args(["install", "-y", "-q", "chromium"])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .status();
            }
            let found = find();
            if found.is_none() {
                eprintln!(
                    "NOTE: no Chromium and none could be installed (apt-get install chromium): \
                     the report is not rendered by a browser here"
                );
            }
            found
        })
        .clone()
}

/// The DOM Chromium builds from `page`, with no network at all.
pub(crate) fn rendered(browser: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn a_browser_renders_the_report_and_runs_nothing_of_the_logs() {
    let Some(browser) = chromium() else {
        return;
    };
    let (_dir, page) = report();
    let dom = rendered(&browser, &page);
    // Nothing the log text carried became an element or ran: the title is
    // the report's, no image, no SVG but the charts.
    assert!(dom.contains("<title>trailsql report</title>"), "{dom}");
    assert!(!dom.contains("pwned</title>"));
    assert!(!dom.contains("<img"), "{dom}");
    assert_eq!(dom.matches("<svg").count(), 4, "{dom}");
    // The sections and the counts of the run.
    for id in [
        "id=\"run\"",
        "id=\"charts\"",
        "id=\"tactics\"",
        "id=\"detections\"",
    ] {
        assert!(dom.contains(id), "{id}");
    }
    assert_eq!(dom.matches("class=\"detection\"").count(), 2);
    assert!(dom.contains("3 findings"));
    // The charts have bars: two days, one actor, one address, one region.
    let per_day = dom.split("id=\"per-day\"").nth(1).unwrap();
    let per_day = &per_day[..per_day.find("</svg>").unwrap()];
    assert_eq!(per_day.matches("<rect").count(), 2, "{per_day}");
    // The hostile text shows as text in the findings table.
    assert!(dom.contains("&lt;img src=x onerror="), "{dom}");
}

/// A hunt over the archive with one Sigma rule and the built-ins, writing
/// `flag`'s file or folder `name`; the folders are kept while it lives.
struct Hunted {
    done: std::process::Output,
    rule: PathBuf,
    target: PathBuf,
    _dirs: [tempfile::TempDir; 3],
}

fn hunt_with_rule(rule_text: &str, flag: &str, name: &str) -> Hunted {
    let src = archive();
    let rules = tempfile::tempdir().unwrap();
    let rule = rules.path().join("acl.yml");
    std::fs::write(&rule, rule_text).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join(name);
    let done = run(
        &[
            "--source",
            src.path().to_str().unwrap(),
            "hunt",
            "--sigma",
            rule.to_str().unwrap(),
            flag,
            target.to_str().unwrap(),
        ],
        "",
    );
    Hunted {
        done,
        rule,
        target,
        _dirs: [src, rules, out],
    }
}

/// `hunt --report`: a section per detection that fired, built-in or Sigma
/// rule (an informational one drawn in the chart too), with the rule's text.
#[test]
fn the_hunt_report_has_each_detection_that_fired() {
    let rule = "title: Bucket ACL put\nid: 5e1ec7ed-0000-4000-8000-00000000a001\n\
                level: informational\ntags:\n  - attack.discovery\nlogsource:\n  \
                product: aws\n  service: cloudtrail\n\
                detection:\n  sel:\n    eventName: PutBucketAcl\n  condition: sel\n";
    let hunted = hunt_with_rule(rule, "--report", "hunt.html");
    let (done, page) = (&hunted.done, &hunted.target);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let html = std::fs::read_to_string(page).unwrap();
    // The rule and the built-in detections that fired on the bucket calls.
    let sections: Vec<&str> = html.split("<section class=\"detection\"").skip(1).collect();
    assert!(sections.len() >= 2, "{html}");
    let acl = sections
        .iter()
        .find(|s| s.contains("<h2>Bucket ACL put</h2>"))
        .unwrap_or_else(|| panic!("{html}"));
    assert!(
        acl.contains("sigma rule") && acl.contains("eventName: PutBucketAcl"),
        "{acl}"
    );
    assert!(acl.contains("<p class=\"count\">1 finding</p>"), "{acl}");
    assert!(html.contains("<title>2025-10-01 info: 1</title>"), "{html}");
    assert!(
        sections
            .iter()
            .any(|s| s.contains("saved query") && s.contains("SELECT")),
        "{html}"
    );
}

/// `run --evidence DIR`: the queries as run, their parameters, the window,
/// the results as CSV and Parquet, and a manifest of every file's SHA-256;
/// `evidence check` names each file changed, missing or added, and the
/// manifest itself against the SHA-256 printed when it was written.
#[test]
fn an_evidence_pack_names_each_change() {
    let src = archive();
    let q = queries();
    let out = tempfile::tempdir().unwrap();
    let pack = out.path().join("pack");
    let p = pack.to_str().unwrap();
    let done = run(
        &[
            "--source",
            src.path().to_str().unwrap(),
            "--queries",
            q.path().to_str().unwrap(),
            "run",
            "bucket-changes",
            "nothing",
            "--param",
            "who=%mallory",
            "--since",
            "2025-10-01",
            "--evidence",
            p,
        ],
        "",
    );
    assert!(done.status.success(), "{}", text(&done.stderr));
    let said = text(&done.stderr);
    let sha = said
        .split("--sha256 ")
        .nth(1)
        .and_then(|s| s.get(..64))
        .unwrap_or_else(|| panic!("{said}"))
        .to_string();
    let manifest = crate::util::manifest_of(&pack);
    assert_eq!(manifest["trailsql"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["window"], "from 2025-10-01T00:00:00Z");
    let first = &manifest["queries"][0];
    assert_eq!(first["name"], "mine/bucket-changes");
    assert_eq!(first["params"]["who"], "%mallory");
    assert_eq!(first["rows"], 3);
    assert_eq!(
        std::fs::read_to_string(pack.join("queries/mine/bucket-changes.sql")).unwrap(),
        std::fs::read_to_string(q.path().join("mine/bucket-changes.sql")).unwrap()
    );
    let csv = std::fs::read_to_string(pack.join("results/mine/bucket-changes.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(pack.join("results/mine/bucket-changes.parquet").is_file());
    // The Parquet result reads back with every row, by another reader.
    let python = crate::util::python_with(&[("duckdb", "duckdb==2.0.1")]);
    let parquet = pack.join("results/mine/bucket-changes.parquet");
    let back = Command::new(python)
        .args([
            "-c",
            "import duckdb, sys; print(duckdb.sql(\"SELECT count(*), min(event_id) FROM read_parquet('\" + sys.argv[1] + \"')\").fetchall()[0])",
        ])
        .arg(&parquet)
        .output()
        .unwrap();
    assert_eq!(
        text(&back.stdout).trim(),
        "(3, 'report-1')",
        "{}",
        text(&back.stderr)
    );
    let check = |extra: &[&str]| {
        let mut args = vec!["evidence", "check", p];
        args.extend_from_slice(extra);
        let out = run(&args, "");
        (out.status.code(), text(&out.stdout))
    };
    let (code, said) = check(&["--sha256", &sha]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("unchanged  manifest.json"), "{said}");
    // One byte of a result, one of a query file; a file added.
    let flip = |rel: &str| {
        let path = pack.join(rel);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&path, bytes).unwrap();
    };
    flip("results/mine/bucket-changes.csv");
    flip("queries/mine/nothing.sql");
    std::fs::write(pack.join("note.txt"), "added later").unwrap();
    let (code, said) = check(&[]);
    assert_eq!(code, Some(1), "{said}");
    let named: Vec<&str> = said.lines().filter(|l| !l.contains("as written")).collect();
    assert_eq!(
        named,
        [
            "changed    queries/mine/nothing.sql",
            "changed    results/mine/bucket-changes.csv",
            "added      note.txt"
        ],
        "{said}"
    );
    // The log files the window reaches, each with its SHA-256; one byte of
    // one of them changed, `--logs` names it.
    let objects = manifest["source_objects"].as_array().unwrap();
    assert_eq!(objects.len(), 2, "{objects:?}");
    let log = objects[0]["location"].as_str().unwrap().to_string();
    assert!(log.ends_with("reportREPORT0001.json"), "{log}");
    assert_eq!(objects[0]["size"], std::fs::metadata(&log).unwrap().len());
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&log, bytes).unwrap();
    let (code, said) = check(&["--logs"]);
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains(&format!("changed    {}: {log}", src.path().display())),
        "{said}"
    );
    assert!(!said.contains("REPORT0002"), "{said}");
    // The manifest edited to match: the SHA-256 kept apart says so.
    let manifest_path = pack.join("manifest.json");
    let edited = std::fs::read_to_string(&manifest_path)
        .unwrap()
        .replace("\"%mallory\"", "\"%\"");
    std::fs::write(&manifest_path, edited).unwrap();
    let (code, said) = check(&["--sha256", &sha]);
    assert_eq!(code, Some(1));
    assert!(said.contains("changed    manifest.json"), "{said}");
    // A manifest that names files outside the pack: not read, named.
    let mut edited: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    edited["files"]["../outside.txt"] = serde_json::json!("00");
    edited["files"]["/etc/hostname"] = serde_json::json!("00");
    std::fs::write(&manifest_path, edited.to_string()).unwrap();
    let (code, said) = check(&[]);
    assert_eq!(code, Some(1));
    assert!(
        said.contains("outside    ../outside.txt (the manifest names a file outside the pack)")
            && said.contains("outside    /etc/hostname"),
        "{said}"
    );
    // A pack is never written over.
    let again = run(
        &[
            "--source",
            src.path().to_str().unwrap(),
            "--queries",
            q.path().to_str().unwrap(),
            "run",
            "nothing",
            "--evidence",
            p,
        ],
        "",
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("an evidence pack is there already"));
}

/// `hunt --evidence DIR`: every detection that ran (a Sigma rule by its
/// file, the built-in queries by their SQL), each one's findings as CSV and
/// Parquet (none for those that found nothing), and each log file read
/// with the SHA-256 of its bytes; the pack checks out as written.
#[test]
fn a_hunt_evidence_pack_holds_every_detection_run_and_the_files_read() {
    let rule_text = "title: Bucket ACL put\nid: 5e1ec7ed-0000-4000-8000-00000000a001\n\
                     level: medium\nlogsource:\n  product: aws\n  service: cloudtrail\n\
                     detection:\n  sel:\n    eventName: PutBucketAcl\n  condition: sel\n";
    let hunted = hunt_with_rule(rule_text, "--evidence", "pack");
    let (done, pack, rule) = (&hunted.done, &hunted.target, &hunted.rule);
    let said = text(&done.stderr);
    assert!(done.status.success(), "{said}");
    assert!(
        said.contains("(2 log files with their SHA-256 as read)"),
        "{said}"
    );
    let manifest = crate::util::manifest_of(pack);
    let queries = manifest["queries"].as_array().unwrap();
    let sigma = queries
        .iter()
        .find(|q| q["name"] == "sigma/5e1ec7ed-0000-4000-8000-00000000a001")
        .unwrap_or_else(|| panic!("{manifest:#}"));
    assert_eq!(sigma["rows"], 1);
    assert_eq!(sigma["severity"], "medium");
    assert_eq!(sigma["origin"], rule.to_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(pack.join("rules/5e1ec7ed-0000-4000-8000-00000000a001.yml"))
            .unwrap(),
        rule_text
    );
    let csv = std::fs::read_to_string(
        pack.join("results/sigma/5e1ec7ed-0000-4000-8000-00000000a001.csv"),
    )
    .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("report-2"), "{csv}");
    // The built-in detections ran too, each with its SQL and its rows,
    // those that found nothing with none.
    let builtins: Vec<&serde_json::Value> = queries
        .iter()
        .filter(|q| q["origin"] == "built-in")
        .collect();
    assert!(builtins.len() > 50, "{}", builtins.len());
    assert!(builtins.iter().any(|q| q["rows"] == 0));
    let one = builtins[0]["text"].as_str().unwrap();
    assert!(
        one.starts_with("queries/") && one.ends_with(".sql"),
        "{one}"
    );
    let sql = std::fs::read_to_string(pack.join(one)).unwrap();
    assert!(sql.contains("SELECT"), "{sql}");
    // Both log files, each once per read, with the SHA-256 of its bytes.
    let objects = manifest["source_objects"].as_array().unwrap();
    assert_eq!(objects.len(), 2, "{objects:?}");
    for o in objects {
        let bytes = std::fs::read(o["location"].as_str().unwrap()).unwrap();
        assert_eq!(o["sha256"], trailsql::verify::sha256_hex(&bytes));
        assert_eq!(o["size"], bytes.len());
        assert!(o["reads"].as_u64().unwrap() >= 1, "{o}");
        assert!(o.get("changed_during_run").is_none(), "{o}");
    }
    let check = run(&["evidence", "check", pack.to_str().unwrap(), "--logs"], "");
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}

/// A Sigma rule's id is the rule writer's text: as a file name in the pack
/// it cannot climb out of it.
#[test]
fn a_rule_id_cannot_name_a_path_outside_the_pack() {
    assert_eq!(
        trailsql::evidence::safe_path("rules/../../etc/passwd.yml"),
        "rules/__/__/etc/passwd.yml"
    );
    assert_eq!(
        trailsql::evidence::safe_path("results/sigma/a b;c$(x).csv"),
        "results/sigma/a_b_c__x_.csv"
    );
    assert_eq!(trailsql::evidence::safe_path("/abs//x"), "abs/x");
}

/// Nothing read is left out of a pack: a log file over `--max-file-mib`
/// (never read) is listed under `not_read` with why; one that is not the
/// gzip its name says, and one with a record that cannot be read, are
/// listed as read (with the SHA-256 of their bytes) and with their problem.
#[test]
fn an_evidence_pack_lists_the_files_not_read_or_not_whole() {
    let src = archive();
    let day = src
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01");
    let name = |n: &str, ext: &str| {
        format!("111122223333_CloudTrail_us-east-1_20251001T1105Z_report{n}.{ext}")
    };
    let big = day.join(name("BIG00001", "json"));
    let padding = "x".repeat(1_200_000);
    std::fs::write(
        &big,
        format!(
            "{{\"Records\":[{{\"eventTime\":\"2025-10-01T11:00:00Z\",\"eventName\":\"PutBucketAcl\",\
             \"eventID\":\"big-1\",\"userAgent\":\"{padding}\"}}]}}"
        ),
    )
    .unwrap();
    let broken = day.join(name("GZIP0001", "json.gz"));
    std::fs::write(&broken, b"\x1f\x8b\x08\x00not gzip after all").unwrap();
    let mixed = day.join(name("MIXED001", "json"));
    std::fs::write(
        &mixed,
        "{\"Records\":[{\"eventTime\":\"2025-10-01T11:01:00Z\",\"eventName\":\"PutBucketAcl\",\
         \"eventID\":\"mixed-1\"},42]}",
    )
    .unwrap();
    let q = queries();
    let out = tempfile::tempdir().unwrap();
    let pack = out.path().join("pack");
    let done = run(
        &[
            "--source",
            src.path().to_str().unwrap(),
            "--queries",
            q.path().to_str().unwrap(),
            "--max-file-mib",
            "1",
            "run",
            "bucket-changes",
            "--evidence",
            pack.to_str().unwrap(),
        ],
        "",
    );
    let said = text(&done.stderr);
    assert!(done.status.success(), "{said}");
    assert!(
        said.contains("(4 log files with their SHA-256 as read; 3 files not read, or not whole"),
        "{said}"
    );
    let manifest = crate::util::manifest_of(&pack);
    let not_read = manifest["not_read"].as_array().unwrap();
    assert_eq!(not_read.len(), 1, "{not_read:?}");
    assert_eq!(not_read[0]["location"], big.to_str().unwrap());
    assert_eq!(not_read[0]["size"], std::fs::metadata(&big).unwrap().len());
    assert!(
        not_read[0]["why"]
            .as_str()
            .unwrap()
            .contains("--max-file-mib"),
        "{not_read:?}"
    );
    let objects = manifest["source_objects"].as_array().unwrap();
    let of = |p: &Path| {
        objects
            .iter()
            .find(|o| o["location"] == p.to_str().unwrap())
            .unwrap_or_else(|| panic!("{}: {objects:?}", p.display()))
    };
    let gz = of(&broken);
    assert_eq!(
        gz["sha256"],
        trailsql::verify::sha256_hex(&std::fs::read(&broken).unwrap())
    );
    assert!(
        gz["problem"].as_str().is_some_and(|p| !p.is_empty()),
        "{gz}"
    );
    let m = of(&mixed);
    assert!(
        m["problem"].as_str().is_some_and(
            |p| p.starts_with("1 of its records could not be read (the first, record 1:")
        ),
        "{m}"
    );
    // The whole files have no problem.
    let whole = objects
        .iter()
        .filter(|o| o.get("problem").is_none())
        .count();
    assert_eq!(whole, 2, "{objects:?}");
}
