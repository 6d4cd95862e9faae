//! Embeds the saved queries (`queries/**/*.sql`) in the binary, so an
//! installed trailsql has them: writes `$OUT_DIR/queries.rs`, a table of
//! (name, text) where the name is the path under `queries/` without `.sql`.

use std::path::{Path, PathBuf};

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sql_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "sql") {
            out.push(p);
        }
    }
}

fn main() {
    // The executable is linked at a fixed address on Linux: as a
    // position-independent one, the loader patched 260,000 addresses in it
    // and copied the 4 MB of pages they sit in before main ran, 4 ms of
    // every run (`trailsql --version` 5.0 ms, without 1.2 ms). Shared
    // libraries, stack and heap are still placed at random.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    // At run time, not env!: the checkout may have moved since this script
    // was compiled (clones can share a build folder).
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("queries");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    sql_files(&root, &mut files);
    files.sort();
    let mut code = String::from("pub static BUILT_IN: &[(&str, &str)] = &[\n");
    for f in &files {
        let name = f
            .strip_prefix(&root)
            .expect("under queries/")
            .with_extension("")
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("queries.rs");
    std::fs::write(out, code).expect("write queries.rs");
}
