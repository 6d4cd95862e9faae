//! Athena-dialect queries checked against an independent engine: DuckDB
//! (installed from PyPI into a venv of the tests' own, under the build
//! folder) answers tests/data/athena_queries.sql over the fixture archive
//! with the table shaped as AWS's Athena DDL shapes it, and every answer
//! must be trailsql's (tests/athena_oracle.py).

use std::path::PathBuf;
use std::process::Command;

use crate::util::{fixture_archive, repo, text};

/// The DuckDB release the oracle is pinned to.
const DUCKDB: &str = "duckdb==2.0.1";

/// A Python with DuckDB: a venv made (once per build folder) for the tests.
fn python_with_duckdb() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oracle-venv");
    let python = venv.join("bin/python");
    let has_duckdb = |python: &PathBuf| {
        Command::new(python)
            .args(["-c", "import duckdb"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has_duckdb(&python) {
        return python;
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .expect("python3 runs (the oracle needs CPython 3 with venv)");
    assert!(
        made.status.success(),
        "python3 -m venv: {}",
        text(&made.stderr)
    );
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", DUCKDB])
        .output()
        .expect("pip runs");
    assert!(
        pip.status.success(),
        "installing {DUCKDB} from PyPI for the Athena oracle failed (network?): {}",
        text(&pip.stderr)
    );
    python
}

#[test]
fn athena_queries_agree_with_duckdb() {
    let python = python_with_duckdb();
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
