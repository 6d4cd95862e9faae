//! The interactive shell in a pseudo-terminal (driven by tests/it/pty_shell.py,
//! with Python's standard pty module): completion, multi-line statements,
//! Ctrl-C cancelling a query, \format, \queries and \run, \timing, \maxrows,
//! \o and \i, \hunt and its detections table, \q and history.

use std::process::Command;

use crate::util::{fixture_archive, repo, text};

#[test]
fn shell_in_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    std::fs::write(
        dir.path().join("two.sql"),
        "SELECT 'from-include-1' AS x;\nSELECT 'from-include-2' AS y;\n",
    )
    .unwrap();
    let script = repo().join("tests/it/pty_shell.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_trailsql"))
        .arg(fixture_archive())
        .arg(dir.path())
        .env("TRAILSQL_HISTORY", &history)
        .env("TERM", "xterm")
        .output()
        .expect("python3 runs (it is on the machine image)");
    let t = text(&out.stdout);
    assert!(
        out.status.success(),
        "driver failed:\n{t}\n{}",
        text(&out.stderr)
    );
    assert!(t.contains("alice"), "{t}");
    assert!(t.contains("| 42 "), "{t}");
    assert!(t.contains("query cancelled"), "{t}");
    assert!(t.contains("still here"), "{t}");
    assert!(t.contains("forensics/data-store-deletions  [high]"), "{t}");
    assert!(t.contains("denied or failed"), "{t}");
    assert!(t.contains("timing is off"), "{t}");
    assert!(t.contains("... 2 more rows not shown"), "{t}");
    assert!(t.trim_end().ends_with("EXIT 0"), "{t}");
    // \hunt's findings at high and above (3 of the Sigma rules', 7 of the
    // built-in detections') joined back to their events.
    assert!(t.contains("10 findings") && t.contains("| 10 "), "{t}");
    // \timing on shows the time; \o kept both results, in order, and none
    // reached the screen; \i ran the file's statements in order.
    assert!(t.contains("(1 row, 0."), "{t}");
    let o = std::fs::read_to_string(dir.path().join("out.txt")).expect("\\o wrote its file");
    let (first, second) = (o.find("| first |").unwrap(), o.find("| second |").unwrap());
    assert!(first < second, "{o}");
    assert_eq!(o.matches("(1 row").count(), 2, "{o}");
    assert!(!t.contains("| first |") && !t.contains("| second |"), "{t}");
    assert!(
        t.find("from-include-1").unwrap() < t.rfind("from-include-2").unwrap(),
        "{t}"
    );
    // \report FILE wrote the page of the \run, then of the \hunt.
    let page = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let run = page("run.html");
    assert!(run.contains("<h2>Data stores deleted"), "{run}");
    assert!(run.contains("<p class=\"count\">2 findings</p>"), "{run}");
    assert!(run.contains("<td>resource</td><td>prod%</td>"), "{run}");
    assert!(run.contains("\\run data-store-deletions"), "{run}");
    let hunt = page("hunt.html");
    assert!(
        hunt.contains("<tr><th>findings</th><td>10</td></tr>"),
        "{hunt}"
    );
    assert!(!dir.path().join("before.html").exists());
    let h = std::fs::read_to_string(&history).expect("history saved");
    assert!(h.contains("useridentity.username AS who"), "{h}");
    assert!(h.contains("SELECT 40 +"), "{h}");
}

#[test]
fn backslash_commands_from_piped_input_are_sql_errors_not_crashes() {
    // Piped input is SQL only; a stray backslash command is reported, exit 2.
    let out = crate::util::run(&["--source", fixture_archive().to_str().unwrap()], "\\d\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stderr).is_empty());
}
