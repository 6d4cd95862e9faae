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

/// Classify a path or key (with `/` separators).
pub fn classify(path: &str) -> Classified {
    if path.ends_with('/') {
        return Classified::Skip("folder marker");
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let name = parts.last().copied().unwrap_or("");
    // Find the AWSLogs segment (the last one: a user prefix may repeat words).
    let Some(at) = parts.iter().rposition(|p| *p == "AWSLogs") else {
        if name.contains("_CloudTrail-Digest_") {
            return Classified::Skip(DIGEST_FILE);
        }
        if name.contains("_CloudTrail-Insight_") {
            return Classified::Skip("Insights file");
        }
        if name.ends_with("public-keys.json") {
            return Classified::Skip("public keys (list-public-keys output, for trailsql verify)");
        }
        // Outside the trail layout: exports and Event history downloads. A
        // CSV in a folder is more likely a result someone saved there than
        // events; an Event history CSV is read when named on its own.
        return if is_json_name(name) {
            Classified::Loose
        } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
            Classified::Skip(
                "a CSV file in a folder (name it in --source to read an Event history download)",
            )
        } else {
            Classified::Skip("not a .json or .json.gz file")
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
        return Classified::Skip("not under AWSLogs/<account>/");
    }
    let service = rest[1];
    match service {
        "CloudTrail" => {}
        "CloudTrail-Digest" => return Classified::Skip(DIGEST_FILE),
        "CloudTrail-Insight" => return Classified::Skip("Insights file"),
        "CloudTrail-NetworkActivity" => return Classified::Skip("network activity file"),
        "CloudTrail-Aggregated" => return Classified::Skip("aggregated events file"),
        "CloudTrail-Lake" => return Classified::Skip("CloudTrail Lake export"),
        _ => return Classified::Skip("not a CloudTrail folder (another service's logs)"),
    }
    // <region>/YYYY/MM/DD/<file>
    if rest.len() != 7 {
        return Classified::Skip("not a log file in the CloudTrail/<region>/YYYY/MM/DD/ layout");
    }
    if !is_json_name(name) {
        return Classified::Skip("not a .json or .json.gz file");
    }
    let date = match (rest[3].parse(), rest[4].parse(), rest[5].parse()) {
        (Ok(y), Ok(m), Ok(d)) if rest[4].len() == 2 && rest[5].len() == 2 => {
            NaiveDate::from_ymd_opt(y, m, d)
        }
        _ => None,
    };
    let Some(date) = date else {
        return Classified::Skip("date folders are not YYYY/MM/DD");
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
}
