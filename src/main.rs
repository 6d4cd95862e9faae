//! The `trailsql` binary: parse the command line, run, map the outcome to an
//! exit code (0 ok, 2 error; a closed output pipe exits quietly).
//!
//! It calls `cli::main` and nothing else of trailsql.

fn main() {
    std::process::exit(trailsql::cli::main());
}
