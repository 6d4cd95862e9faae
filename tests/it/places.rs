//! Places behind addresses: `--geoip` with MaxMind-format databases the
//! tests write themselves (tests/make_mmdb.py, with the mmdb-writer
//! package in the tests' venv): a city database and an ASN database over
//! the documentation ranges the fixture archive uses.

use std::process::Command;

use crate::util::{fixture_archive, python_with, repo, run, text};

/// city.mmdb and asn.mmdb in a new folder.
pub fn databases() -> tempfile::TempDir {
    let python = python_with(&[("mmdb_writer", "mmdb-writer==0.2.5")]);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(python)
        .arg(repo().join("tests/make_mmdb.py"))
        .arg(dir.path())
        .output()
        .expect("the database writer runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

fn answer(args: &[&str]) -> String {
    let out = run(args, "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The CSV answer to `sql` with these databases, in this order.
fn placed(databases: &[&std::path::Path], sql: &str) -> String {
    let mut args = Vec::new();
    for db in databases {
        args.extend(["--geoip", db.to_str().unwrap()]);
    }
    args.extend(["--format", "csv", "-e", sql]);
    answer(&args)
}

#[test]
fn addresses_get_their_country_city_and_network() {
    let dbs = databases();
    let city = dbs.path().join("city.mmdb");
    let asn = dbs.path().join("asn.mmdb");
    let src = fixture_archive();
    let sql = "SELECT sourceipaddress, geoip_country(sourceipaddress) AS country, \
               geoip_city(sourceipaddress) AS city, geoip_asn(sourceipaddress) AS asn, \
               geoip_org(sourceipaddress) AS org FROM cloudtrail ORDER BY eventtime";
    let got = answer(&[
        "--source",
        src.to_str().unwrap(),
        "--geoip",
        city.to_str().unwrap(),
        "--geoip",
        asn.to_str().unwrap(),
        "--format",
        "csv",
        "-e",
        sql,
    ]);
    // The city database answers places, the ASN database networks; a
    // service's name and an address in neither give NULL.
    assert_eq!(
        got,
        "sourceipaddress,country,city,asn,org\n\
         198.51.100.1,DE,Berlin,64500,Example Transit\n\
         192.0.2.15,,,64501,Example Hosting\n\
         203.0.113.77,BR,Sao Paulo,,\n\
         198.51.100.23,DE,Berlin,64500,Example Transit\n\
         autoscaling.amazonaws.com,,,,\n"
    );
    // Private, loopback and link-local ranges are no place; IPv6 is.
    let got = placed(
        &[&city],
        "SELECT ip, geoip_country(ip) AS c FROM (VALUES ('10.0.0.8'), ('127.0.0.1'), \
         ('169.254.169.254'), ('fd00::1'), ('2001:db8::5'), ('AWS Internal')) AS v(ip)",
    );
    assert_eq!(
        got,
        "ip,c\n10.0.0.8,\n127.0.0.1,\n169.254.169.254,\nfd00::1,\n2001:db8::5,JP\nAWS Internal,\n"
    );
}

#[test]
fn the_places_reach_saved_queries_run_in_one_pass() {
    let dbs = databases();
    let city = dbs.path().join("city.mmdb");
    let queries = tempfile::tempdir().unwrap();
    std::fs::write(
        queries.path().join("from-brazil.sql"),
        "-- title: Calls from Brazil\n-- severity: info\n\
         -- description: every call from an address the database places in Brazil\n\
         SELECT eventtime, account, region, actor, source_ip, event_source, event_name, \
         NULL AS target, error_code, geoip_country(source_ip) AS country \
         FROM cloudtrail_events WHERE geoip_country(source_ip) = 'BR' ORDER BY eventtime\n",
    )
    .unwrap();
    let src = fixture_archive();
    let got = answer(&[
        "--source",
        src.to_str().unwrap(),
        "--geoip",
        city.to_str().unwrap(),
        "--queries",
        queries.path().to_str().unwrap(),
        "--format",
        "csv",
        "run",
        "--all",
    ]);
    assert!(
        got.contains("from-brazil [info] Calls from Brazil: 1 finding"),
        "{got}"
    );
    assert!(
        got.contains(",203.0.113.77,dynamodb.amazonaws.com,DeleteTable,,,BR"),
        "{got}"
    );
}

#[test]
fn without_a_database_the_functions_say_how_to_get_one() {
    let out = run(&["-e", "SELECT geoip_country('198.51.100.1')"], "");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("geoip_country needs a MaxMind-format database: give one with --geoip FILE"),
        "{err}"
    );
    assert!(
        err.contains("trailsql ships none and downloads nothing"),
        "{err}"
    );
    // A file that is no database is named.
    let not_one = repo().join("README.md");
    let out = run(
        &["--geoip", not_one.to_str().unwrap(), "-e", "SELECT 1"],
        "",
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("README.md: not a MaxMind-format (.mmdb) database"),
        "{err}"
    );
}

#[test]
fn a_saved_query_that_places_addresses_waits_for_a_database() {
    let queries = tempfile::tempdir().unwrap();
    let query = |title: &str, condition: &str| {
        format!(
            "-- title: {title}\n-- severity: info\n-- description: {title}\n\
             SELECT eventtime, account, region, actor, source_ip, event_source, event_name, \
             NULL AS target, error_code FROM cloudtrail_events WHERE {condition} ORDER BY eventtime\n"
        )
    };
    std::fs::write(
        queries.path().join("from-brazil.sql"),
        query("Calls from Brazil", "geoip_country(source_ip) = 'BR'"),
    )
    .unwrap();
    std::fs::write(
        queries.path().join("denied.sql"),
        query("Denied calls", "error_code IS NOT NULL"),
    )
    .unwrap();
    let src = fixture_archive();
    let dir = queries.path().to_str().unwrap();
    let base = ["--source", src.to_str().unwrap(), "--queries", dir];
    // Without a database: left out, saying what it needs; the other runs.
    let out = run(
        &[&base[..], &["--format", "csv", "run", "--all"]].concat(),
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("== from-brazil [info] Calls from Brazil: not run, needs --geoip FILE"),
        "{said}"
    );
    assert!(
        said.contains("== denied [info] Denied calls: 1 finding"),
        "{said}"
    );
    // With one: both run.
    let dbs = databases();
    let city = dbs.path().join("city.mmdb");
    let said = answer(
        &[
            &base[..],
            &[
                "--geoip",
                city.to_str().unwrap(),
                "--format",
                "csv",
                "run",
                "--all",
            ],
        ]
        .concat(),
    );
    assert!(
        said.contains("== from-brazil [info] Calls from Brazil: 1 finding"),
        "{said}"
    );
}

#[test]
fn hunt_runs_the_detections_that_place_addresses_when_given_a_database() {
    // `hunt` over a fixture (with a database): its timeline and what it said.
    let hunt = |name: &str, database: Option<&std::path::Path>| {
        let fixture = repo().join("tests/data/saved/attack").join(name);
        let mut args = vec!["--source".to_string(), fixture.display().to_string()];
        if let Some(db) = database {
            args.extend(["--geoip".to_string(), db.display().to_string()]);
        }
        args.extend(["--format", "csv", "hunt"].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    // Without a database they are left out, counted as such.
    let (timeline, err) = hunt("new-country", None);
    assert!(err.contains("99 built-in detections run"), "{err}");
    assert!(!timeline.contains("trailsql.attack.new-country"));
    // With one, each runs in the pass and finds what its fixture plants,
    // and only that.
    let dbs = databases();
    for (name, database, event) in [
        (
            "new-country",
            "city.mmdb",
            "ce000000-0000-4000-8000-000000000003",
        ),
        (
            "new-network",
            "asn.mmdb",
            "ae000000-0000-4000-8000-000000000003",
        ),
        (
            "impossible-travel",
            "city.mmdb",
            "it000000-0000-4000-8000-000000000003",
        ),
    ] {
        let (timeline, err) = hunt(name, Some(&dbs.path().join(database)));
        assert!(err.contains("102 built-in detections run"), "{err}");
        let found: Vec<&str> = timeline
            .lines()
            .filter(|l| l.contains(&format!("trailsql.attack.{name},")))
            .collect();
        assert_eq!(found.len(), 1, "{name}: {timeline}");
        assert!(found[0].contains(event), "{name}: {timeline}");
    }
}

#[test]
fn hunt_list_says_the_detections_that_place_addresses_need_a_database() {
    let out = run(&["--format", "csv", "hunt", "--list"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    for name in ["new-country", "new-network", "impossible-travel"] {
        let row = listing
            .lines()
            .find(|l| l.starts_with(&format!("trailsql.attack.{name},")))
            .unwrap_or_else(|| panic!("{name}: {listing}"));
        assert!(
            row.ends_with(",with --geoip only: it places addresses"),
            "{row}"
        );
    }
}

#[test]
fn coordinates_their_accuracy_and_which_database_answered() {
    let dbs = databases();
    let city = dbs.path().join("city.mmdb");
    let asn = dbs.path().join("asn.mmdb");
    // The ASN database first: it holds Berlin's network too, but knows no
    // country or coordinates, so the city database answers those.
    let got = placed(
        &[&asn, &city],
        "SELECT ip, geoip_latitude(ip) AS lat, geoip_longitude(ip) AS lon, \
         geoip_accuracy_km(ip) AS km, geoip_database(ip) AS first, \
         geoip_database(ip, 'country') AS country, geoip_database(ip, 'asn') AS asn, \
         geoip_database(ip, 'location') AS location \
         FROM (VALUES ('198.51.100.1'), ('192.0.2.15'), ('2001:db8:8000::1'), ('10.0.0.1')) AS v(ip)",
    );
    assert_eq!(
        got,
        "ip,lat,lon,km,first,country,asn,location\n\
         198.51.100.1,52.52,13.4,20,asn.mmdb,city.mmdb,asn.mmdb,city.mmdb\n\
         192.0.2.15,,,,asn.mmdb,,asn.mmdb,\n\
         2001:db8:8000::1,35.44,139.64,50,city.mmdb,city.mmdb,,city.mmdb\n\
         10.0.0.1,,,,,,,\n"
    );
    // Trino's great_circle_distance over them: Berlin to Sao Paulo.
    let got = placed(
        &[&city],
        "SELECT round(great_circle_distance(geoip_latitude('198.51.100.1'), \
         geoip_longitude('198.51.100.1'), geoip_latitude('203.0.113.9'), \
         geoip_longitude('203.0.113.9'))) AS km",
    );
    assert_eq!(got, "km\n10252.0\n");
    let out = run(
        &[
            "--geoip",
            city.to_str().unwrap(),
            "-e",
            "SELECT geoip_database('198.51.100.1', 'planet')",
        ],
        "",
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("'country', 'city', 'asn', 'org', 'location'"),
        "{err}"
    );
}
