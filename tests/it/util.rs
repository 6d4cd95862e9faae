//! Helpers: run the binary, find fixtures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trailsql"));
    c.env(
        "TRAILSQL_HISTORY",
        std::env::temp_dir().join("trailsql-test-history"),
    );
    c
}

/// The checkout the tests run in. Read at run time, not with `env!`: clones at
/// different paths may share one build folder (CI points CARGO_TARGET_DIR at a
/// persistent one), and cargo does not rebuild a test binary just because the
/// checkout moved, so a compile-time path can name another clone, or none.
pub fn repo() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

pub fn fixture_archive() -> PathBuf {
    repo().join("tests/data/archive")
}

/// Run with `args`, feeding `stdin`, and return the output.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("trailsql runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("trailsql finishes")
}

/// Start `cmd` with its standard output and error piped.
pub fn spawn_piped(cmd: &mut Command) -> std::process::Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("trailsql runs")
}

/// Wait for `child` (its standard output taken or not); its exit code,
/// once it is seen that it did not panic.
pub fn exit_code(child: std::process::Child) -> Option<i32> {
    let out = child.wait_with_output().expect("trailsql finishes");
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    out.status.code()
}

/// `trailsql --source SOURCE run --all --area AREA --out-dir DIR` into a new
/// temporary DIR; the folder (kept while it lives) and the output.
pub fn run_area(source: &str, area: &str) -> (tempfile::TempDir, Output) {
    run_area_with(source, area, &[])
}

/// `run --all --area AREA` with more options before `run` (`--geoip FILE`).
pub fn run_area_with(source: &str, area: &str, options: &[&str]) -> (tempfile::TempDir, Output) {
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().to_str().unwrap().to_string();
    let mut args = vec!["--source", source];
    args.extend_from_slice(options);
    args.extend(["run", "--all", "--area", area, "--out-dir", &dir]);
    let out = run(&args, "");
    (out_dir, out)
}

/// The files in `dir`, sorted by name.
pub fn files_in(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Every file under `dir`, at any depth, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in files_in(dir) {
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Run with `args` and no input; it must fail with exit code 2 and say `needle`
/// on stderr.
pub fn assert_fails_saying(args: &[&str], needle: &str) {
    let out = run(args, "");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "wanted {needle:?} in:\n{err}");
}

/// The CSV answer to `sql` over the archive at `source`; the run must succeed.
pub fn csv_answer(source: &str, sql: &str) -> String {
    let out = run(&["--source", source, "--format", "csv", "-e", sql], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `../shared/corpus`, when this checkout has it. Without it the corpus
/// tests check nothing and say so; under CI (`CI` set, as `.ci/run` runs
/// there) they fail instead, since CI always has it and a missing corpus
/// would otherwise pass unnoticed.
pub fn corpus() -> Option<PathBuf> {
    let p = repo().join("../shared/corpus");
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{}: not found, and CI is set: the corpus tests need it beside the clone",
        p.display()
    );
    eprintln!("NOTE: ../shared/corpus not found; the corpus tests check nothing in this checkout");
    None
}

/// A command that runs trailsql in a pseudo-terminal (tests/it/pty_run.py)
/// of `rows` x `cols` (0 0: one that gives no size), as a person at a
/// terminal would; its stdout is what reached the terminal, trailsql's
/// stdout and stderr together, byte for byte. Add trailsql's arguments
/// (and any environment) to it.
pub fn in_terminal_of(rows: u16, cols: u16) -> Command {
    let mut c = Command::new("python3");
    c.arg(repo().join("tests/it/pty_run.py"))
        .args([rows.to_string(), cols.to_string()])
        .arg(env!("CARGO_BIN_EXE_trailsql"))
        .env("TERM", "xterm");
    c
}

/// [`in_terminal_of`] a terminal that gives no size.
pub fn in_terminal() -> Command {
    in_terminal_of(0, 0)
}

/// Run trailsql with `args` in a pseudo-terminal: what reached it.
pub fn run_in_terminal(args: &[&str]) -> Vec<u8> {
    in_terminal()
        .args(args)
        .output()
        .expect("python3 runs (it is on the machine image)")
        .stdout
}

/// `hunt --no-builtins` with the Sigma rules in `tests/data/RULES` over the
/// archive at `source`, as CSV, with
/// `extra` flags after it.
pub fn hunt_sigma(source: &Path, rules: &str, extra: &[&str]) -> Output {
    let rules = repo().join("tests/data").join(rules);
    let mut args = vec![
        "--source".to_string(),
        source.display().to_string(),
        "--format".into(),
        "csv".into(),
        "hunt".into(),
        "--no-builtins".into(),
        "--sigma".into(),
        rules.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args, "")
}

/// A Python of the tests' own (a venv under the build folder, made once)
/// that imports each of `modules`, installing its package from PyPI where
/// it is missing: (module, package) pairs.
pub fn python_with(modules: &[(&str, &str)]) -> PathBuf {
    // One test at a time makes the venv and installs into it.
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-venv");
    let python = venv.join("bin/python");
    let imports = |module: &str| {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !python.exists() {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .expect("python3 runs (the tests need CPython 3 with venv)");
        assert!(
            made.status.success(),
            "python3 -m venv: {}",
            text(&made.stderr)
        );
    }
    for (module, package) in modules {
        if imports(module) {
            continue;
        }
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", package])
            .output()
            .expect("pip runs");
        assert!(
            pip.status.success(),
            "installing {package} from PyPI for the tests failed (network?): {}",
            text(&pip.stderr)
        );
    }
    python
}

/// The manifest of the evidence pack in `pack`.
pub fn manifest_of(pack: &std::path::Path) -> serde_json::Value {
    let path = pack.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
