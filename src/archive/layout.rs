//! The key layout CloudTrail writes:
//! `[prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`.
//! [`classify`] tells a log file (and what its key says) from everything else a
//! trail bucket holds: digests, Insights, Config, probes, folder markers.
//!
//! It imports nothing of trailsql outside `archive/`.

use chrono::NaiveDate;

/// What a log file's key says about its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub org: Option<String>,
    pub account: String,
    pub region: String,
    /// Delivery date (UTC) from the `YYYY/MM/DD` folders.
    pub date: NaiveDate,
}

/// Verdict on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// A trail log file in the standard layout.
    Log(KeyInfo),
    /// A JSON file outside the trail layout: read it, no pruning by key.
    Loose,
    /// Not a log file; the reason.
    Skip(&'static str),
}

pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_org(s: &str) -> bool {
    s.len() >= 12 && s.starts_with("o-") && s[2..].bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_json_name(name: &str) -> bool {
    name.ends_with(".json.gz") || name.ends_with(".json")
}

/// Why a digest file is not read as a log file; `verify` looks for it.
pub const DIGEST_FILE: &str = "digest file";
const FOLDER_MARKER: &str = "folder marker";
const INSIGHTS_FILE: &str = "Insights file";
const PUBLIC_KEYS_FILE: &str = "public keys file (list-public-keys output, for trailsql verify)";
const CSV_IN_FOLDER: &str =
    "CSV file in a folder (name it in --source to read an Event history download)";
const NOT_JSON: &str = "file that is not .json or .json.gz";
const NOT_UNDER_AWSLOGS: &str = "object not under AWSLogs/<account>/";
const NETWORK_ACTIVITY_FILE: &str = "network activity file";
const AGGREGATED_FILE: &str = "aggregated events file";
const LAKE_EXPORT: &str = "CloudTrail Lake export";
const OTHER_SERVICE: &str = "file of another service (not in a CloudTrail folder)";
const OUTSIDE_LAYOUT: &str = "file outside the CloudTrail/<region>/YYYY/MM/DD/ layout";
const BAD_DATE_FOLDERS: &str = "file in date folders that are not YYYY/MM/DD";

/// Each reason [`classify`] gives for skipping an object (a singular noun
/// phrase), with its plural, for counts ("726 digest files").
const REASONS: &[(&str, &str)] = &[
    (DIGEST_FILE, "digest files"),
    (FOLDER_MARKER, "folder markers"),
    (INSIGHTS_FILE, "Insights files"),
    (
        PUBLIC_KEYS_FILE,
        "public keys files (list-public-keys output, for trailsql verify)",
    ),
    (
        CSV_IN_FOLDER,
        "CSV files in a folder (name one in --source to read an Event history download)",
    ),
    (NOT_JSON, "files that are not .json or .json.gz"),
    (NOT_UNDER_AWSLOGS, "objects not under AWSLogs/<account>/"),
    (NETWORK_ACTIVITY_FILE, "network activity files"),
    (AGGREGATED_FILE, "aggregated events files"),
    (LAKE_EXPORT, "CloudTrail Lake exports"),
    (
        OTHER_SERVICE,
        "files of another service (not in a CloudTrail folder)",
    ),
    (
        OUTSIDE_LAYOUT,
        "files outside the CloudTrail/<region>/YYYY/MM/DD/ layout",
    ),
    (
        BAD_DATE_FOLDERS,
        "files in date folders that are not YYYY/MM/DD",
    ),
];

/// `n` objects skipped for `reason`, as a count reads: "1 digest file",
/// "726 digest files".
pub fn counted(n: u64, reason: &str) -> String {
    let many = REASONS
        .iter()
        .find(|(one, _)| *one == reason)
        .map_or(reason, |(_, many)| many);
    format!("{n} {}", if n == 1 { reason } else { many })
}

/// Classify a path or key (with `/` separators).
pub fn classify(path: &str) -> Classified {
    if path.ends_with('/') {
        return Classified::Skip(FOLDER_MARKER);
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let name = parts.last().copied().unwrap_or("");
    // Find the AWSLogs segment (the last one: a user prefix may repeat words).
    let Some(at) = parts.iter().rposition(|p| *p == "AWSLogs") else {
        if name.contains("_CloudTrail-Digest_") {
            return Classified::Skip(DIGEST_FILE);
        }
        if name.contains("_CloudTrail-Insight_") {
            return Classified::Skip(INSIGHTS_FILE);
        }
        if name.ends_with("public-keys.json") {
            return Classified::Skip(PUBLIC_KEYS_FILE);
        }
        // Outside the trail layout: exports and Event history downloads. A
        // CSV in a folder is more likely a result someone saved there than
        // events; an Event history CSV is read when named on its own.
        return if is_json_name(name) {
            Classified::Loose
        } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
            Classified::Skip(CSV_IN_FOLDER)
        } else {
            Classified::Skip(NOT_JSON)
        };
    };
    let mut rest = &parts[at + 1..];
    let mut org = None;
    if let Some(first) = rest.first() {
        if is_org(first) {
            org = Some(first.to_string());
            rest = &rest[1..];
        }
    }
    if rest.len() < 2 || !is_account(rest[0]) {
        return Classified::Skip(NOT_UNDER_AWSLOGS);
    }
    let service = rest[1];
    match service {
        "CloudTrail" => {}
        "CloudTrail-Digest" => return Classified::Skip(DIGEST_FILE),
        "CloudTrail-Insight" => return Classified::Skip(INSIGHTS_FILE),
        "CloudTrail-NetworkActivity" => return Classified::Skip(NETWORK_ACTIVITY_FILE),
        "CloudTrail-Aggregated" => return Classified::Skip(AGGREGATED_FILE),
        "CloudTrail-Lake" => return Classified::Skip(LAKE_EXPORT),
        _ => return Classified::Skip(OTHER_SERVICE),
    }
    // <region>/YYYY/MM/DD/<file>
    if rest.len() != 7 {
        return Classified::Skip(OUTSIDE_LAYOUT);
    }
    if !is_json_name(name) {
        return Classified::Skip(NOT_JSON);
    }
    let date = match (rest[3].parse(), rest[4].parse(), rest[5].parse()) {
        (Ok(y), Ok(m), Ok(d)) if rest[4].len() == 2 && rest[5].len() == 2 => {
            NaiveDate::from_ymd_opt(y, m, d)
        }
        _ => None,
    };
    let Some(date) = date else {
        return Classified::Skip(BAD_DATE_FOLDERS);
    };
    Classified::Log(KeyInfo {
        org,
        account: rest[0].to_string(),
        region: rest[2].to_string(),
        date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_and_org_layouts() {
        let k = "AWSLogs/111122223333/CloudTrail/eu-west-1/2023/10/15/111122223333_CloudTrail_eu-west-1_20231015T1430Z_abcdEFGH12345678.json.gz";
        match classify(k) {
            Classified::Log(info) => {
                assert_eq!(info.account, "111122223333");
                assert_eq!(info.region, "eu-west-1");
                assert_eq!(info.date.to_string(), "2023-10-15");
                assert_eq!(info.org, None);
            }
            other => panic!("{other:?}"),
        }
        let org = "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789016/CloudTrail/ca-central-1/2020/08/30/123456789016_CloudTrail_ca-central-1_20200830T0115Z_3YQJxwt5qUaOzMtL.json.gz";
        match classify(org) {
            Classified::Log(info) => {
                assert_eq!(info.org.as_deref(), Some("o-fxozgwu6rc"));
                assert_eq!(info.account, "123456789016");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn non_logs_are_skipped() {
        assert_eq!(
            classify("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/10/15/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20231015T000000Z.json.gz"),
            Classified::Skip("digest file")
        );
        assert!(matches!(
            classify("AWSLogs/111122223333/Config/ConfigWritabilityCheckFile"),
            Classified::Skip(_)
        ));
        assert!(matches!(
            classify("AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2023/10/15/x.json.gz"),
            Classified::Skip(_)
        ));
        assert!(matches!(classify("AWSLogs/"), Classified::Skip(_)));
        assert!(matches!(classify("notes.txt"), Classified::Skip(_)));
        assert_eq!(classify("some/export.json"), Classified::Loose);
        assert!(matches!(
            classify("copy/public-keys.json"),
            Classified::Skip(r) if r.contains("public keys")
        ));
        assert!(matches!(
            classify("downloads/event_history.csv"),
            Classified::Skip(r) if r.contains("name it in --source")
        ));
        assert!(matches!(
            classify("AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15/x.csv"),
            Classified::Skip(_)
        ));
    }

    #[test]
    fn every_reason_has_a_plural_for_counts() {
        let paths = [
            "AWSLogs/",
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/10/15/x.json.gz",
            "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2023/10/15/x.json.gz",
            "AWSLogs/111122223333/CloudTrail-NetworkActivity/us-east-1/2023/10/15/x.json.gz",
            "AWSLogs/111122223333/CloudTrail-Aggregated/us-east-1/2023/10/15/x.json.gz",
            "AWSLogs/111122223333/CloudTrail-Lake/us-east-1/2023/10/15/x.json.gz",
            "AWSLogs/111122223333/Config/us-east-1/2023/10/15/x.json.gz",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/x.json.gz",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15/x.txt",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2023/1/155/x.json.gz",
            "AWSLogs/notanaccount/CloudTrail/us-east-1/2023/10/15/x.json.gz",
            "x_CloudTrail-Digest_y.json.gz",
            "x_CloudTrail-Insight_y.json.gz",
            "keys/public-keys.json",
            "downloads/event_history.csv",
            "notes.txt",
        ];
        let mut seen = std::collections::BTreeSet::new();
        for path in paths {
            let Classified::Skip(reason) = classify(path) else {
                panic!("{path} is read");
            };
            let (one, many) = (counted(1, reason), counted(2, reason));
            assert_eq!(one, format!("1 {reason}"));
            assert!(
                REASONS.iter().any(|(r, _)| *r == reason) && many != format!("2 {reason}"),
                "{path}: {reason:?} has no plural"
            );
            seen.insert(reason);
        }
        assert_eq!(seen.len(), REASONS.len(), "{seen:?}");
        assert_eq!(counted(726, DIGEST_FILE), "726 digest files");
    }
}
