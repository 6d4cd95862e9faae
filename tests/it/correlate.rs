//! Sigma correlation rules (tests/data/sigma-correlate) over a small
//! archive written for them (tests/data/correlate): each type fires on
//! its events and not on the near misses beside them, chained, with
//! aliases, and `generate` deciding whether the rules named fire alone.

use crate::util::{hunt_sigma, repo, text};

fn hunt(extra: &[&str]) -> std::process::Output {
    hunt_sigma(
        &repo().join("tests/data/correlate"),
        "sigma-correlate",
        extra,
    )
}

/// (rule id's last four characters, event id) of each finding, sorted.
fn found(csv: &str) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut out: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[9][r[9].len() - 4..].to_string(), r[13].to_string())
        })
        .collect();
    out.sort();
    out
}

fn of(rule: &str, csv: &str) -> Vec<String> {
    found(csv)
        .into_iter()
        .filter(|(r, _)| r == rule)
        .map(|(_, e)| e)
        .collect()
}

#[test]
fn each_correlation_type_fires_on_its_events_and_not_the_near_misses() {
    let out = hunt(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    // event_count, 3 failures in 5 minutes per user: bob's (4 minutes) and
    // dave's (exactly 5: the timespan is inclusive); carol's third is one
    // second too late.
    assert_eq!(
        of("c101", &csv),
        ["bob-f1", "bob-f2", "bob-f3", "dave-f1", "dave-f2", "dave-f3"]
    );
    // value_count, 3 source addresses in 10 minutes: only bob changed
    // address.
    assert_eq!(of("c102", &csv), ["bob-f1", "bob-f2", "bob-f3"]);
    // temporal_ordered over a correlation: bob's burst (closed by f3),
    // then his sign-in; dave's burst has no sign-in after it, carol had
    // no burst.
    assert_eq!(of("c103", &csv), ["bob-f3", "bob-ok"]);
    // temporal, either order, 10 minutes: eve (policy first) and frank;
    // grace's are 20 minutes apart.
    assert_eq!(
        of("c104", &csv),
        ["eve-attach", "eve-key", "frank-attach", "frank-key"]
    );
    // temporal_ordered, key then policy: frank only.
    assert_eq!(of("c105", &csv), ["frank-attach", "frank-key"]);
    // aliases: the profile admin created for heidi, then heidi's sign-in
    // (userName in the request, then in the identity).
    assert_eq!(of("c106", &csv), ["admin-profile", "heidi-ok"]);
    // generate: true on c104 and c103: the rules they name fire alone too;
    // console_failure and profile_created, named only without it, do not.
    assert_eq!(of("c003", &csv), ["eve-key", "frank-key", "grace-key"]);
    assert_eq!(of("c002", &csv), ["bob-ok", "carol-ok", "heidi-ok"]);
    assert!(of("c001", &csv).is_empty() && of("c005", &csv).is_empty());
    // A correlation's level, title and tags are its own.
    assert!(
        csv.contains(
            ",Sign-in failures in a burst,medium,\"attack.credential-access, attack.t1110\",bob-f1"
        ),
        "{csv}"
    );
    // What cannot run is named, with why, and counted.
    let err = text(&out.stderr);
    assert!(
        err.contains("refused.yml: not run: correlation type \"sequence\" is not one of Sigma's"),
        "{err}"
    );
    assert!(
        err.contains("c107: names the rule \"no_such_rule\""),
        "{err}"
    );
    assert!(
        err.contains("6 rule files read: 3 rules and 6 correlations to run, 0 for other log sources, 2 refused"),
        "{err}"
    );
    assert!(err.contains("28 findings"), "{err}");
}

#[test]
fn min_level_picks_what_fires_and_the_rules_feeding_it_still_run() {
    let out = hunt(&["--min-level", "high"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let rules: std::collections::BTreeSet<String> =
        found(&csv).into_iter().map(|(r, _)| r).collect();
    // c103 (critical) is built on c101 (medium), which no longer fires
    // alone but still finds bob's burst.
    assert_eq!(
        rules.into_iter().collect::<Vec<_>>(),
        ["c102", "c103", "c104", "c105", "c106"]
    );
    assert_eq!(of("c103", &csv), ["bob-f3", "bob-ok"]);
    // --strict: the two refused correlations stop the hunt.
    let out = hunt(&["--strict"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2 Sigma rules cannot be run (--strict)"));
}

/// Fields with many values (paths through JSON lists, the `resources`
/// list) match when any value does; keywords are found anywhere in the
/// event (tests/data/sigma-arrays over the same archive).
#[test]
fn list_fields_match_when_any_value_does_and_keywords_search_the_event() {
    let out = hunt_sigma(&repo().join("tests/data/correlate"), "sigma-arrays", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    // 0.0.0.0/0 is the second range of the second permission of sg-open;
    // sg-closed has the same ports and no such range.
    assert_eq!(of("d001", &csv), ["sg-open"]);
    // A number (toPort 3389) and a regular expression inside the lists.
    assert_eq!(of("d002", &csv), ["sg-open"]);
    // The second resource of res-secret; res-other names another bucket.
    assert_eq!(of("d003", &csv), ["res-secret"]);
    // "scoutsuite" inside the user agent, whatever its case; nothing
    // says "prowler".
    assert_eq!(of("d004", &csv), ["scanner"]);
    // A path that is not there is null; a regular expression over the
    // resources leaves res-secret out.
    assert_eq!(of("d005", &csv), ["res-other"]);
    assert!(text(&out.stderr).contains("5 findings"));
}

/// Every modifier and condition form on events, each with its near miss
/// (tests/data/sigma-modifiers over the same archive).
#[test]
fn every_modifier_and_condition_form_on_events() {
    let out = hunt_sigma(&repo().join("tests/data/correlate"), "sigma-modifiers", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let failures: Vec<String> = ["bob", "carol", "dave"]
        .iter()
        .flat_map(|u| (1..=3).map(move |i| format!("{u}-f{i}")))
        .collect();
    let want: [(&str, Vec<String>); 18] = [
        // contains|all: both words, any case.
        ("e001", vec!["scanner".into()]),
        // cased: the message is "Failed authentication", not lower case;
        // uncased it matches whatever the case.
        ("e002", vec![]),
        ("e003", failures.clone()),
        // gt and lte compare eventVersion as a number (1.09 > 1.08).
        ("e004", vec!["admin-profile".into()]),
        ("e005", vec!["b64-agent".into()]),
        // lt over the ports of a list: 22 < 23.
        ("e006", vec!["sg-closed".into(), "sg-open".into()]),
        // base64 of "secret" is the agent; of "Secret" it is not.
        ("e007", vec!["b64-agent".into()]),
        ("e008", vec![]),
        // re with m: ^ and $ at each line; without, not.
        ("e009", vec!["b64-agent".into()]),
        ("e010", vec![]),
        // re with s: . matches the newline; without, not.
        ("e011", vec!["b64-agent".into()]),
        ("e012", vec![]),
        // all of them, 1 of them, parentheses and not.
        ("e013", vec!["frank-key".into()]),
        (
            "e014",
            vec![
                "eve-key".into(),
                "frank-attach".into(),
                "frank-key".into(),
                "grace-key".into(),
            ],
        ),
        ("e015", vec!["eve-key".into(), "grace-key".into()]),
        // Two comparisons on one list field: some port <= 22, some >= 3389.
        ("e016", vec!["sg-closed".into(), "sg-open".into()]),
        // A boolean inside requestParameters; a field present but null.
        ("e017", vec!["admin-profile".into()]),
        // exists: true on errorCode, false on an absent field.
        ("e018", vec!["b64-agent".into()]),
    ];
    for (rule, events) in want {
        let mut events = events;
        events.sort();
        assert_eq!(of(rule, &csv), events, "{rule}");
    }
}
