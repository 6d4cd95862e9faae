//! Athena-dialect queries checked against an independent engine: DuckDB
//! (installed from PyPI into the tests' venv, under the build folder)
//! answers tests/data/athena_queries.sql over the fixture archive with the
//! table shaped as AWS's Athena DDL shapes it, and every answer must be
//! trailsql's (tests/athena_oracle.py).

use std::process::Command;

use crate::util::{fixture_archive, python_with, repo, text};

/// The DuckDB release the oracle is pinned to.
const DUCKDB: &str = "duckdb==2.0.1";

#[test]
fn athena_queries_agree_with_duckdb() {
    let python = python_with(&[("duckdb", DUCKDB)]);
    let out = Command::new(python)
        .arg(repo().join("tests/athena_oracle.py"))
        .arg(env!("CARGO_BIN_EXE_trailsql"))
        .arg(fixture_archive())
        .arg(repo().join("tests/data/athena_queries.sql"))
        .output()
        .expect("the oracle script runs");
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}\n{}", text(&out.stderr));
    // Every query ran on both and agreed: none skipped, none failed.
    let summary = said.lines().last().unwrap_or("");
    let total: usize = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(total >= 41, "{said}");
    assert!(
        summary.ends_with(&format!(
            "{total} agree, 0 agree but for the order of ties, 0 differ, 0 trailsql failed, 0 duckdb failed"
        )),
        "{said}"
    );
}
