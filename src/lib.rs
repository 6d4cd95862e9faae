//! trailsql: an embedded SQL engine over AWS CloudTrail archives.
//!
//! Data flows `archive` (which log files) -> `record` (bytes to Arrow rows of
//! the canonical schema) -> `table` (DataFusion providers) -> `session` (the
//! SQL context) -> `output` (printers). `cli` and `repl` are the front ends;
//! `sample` writes realistic archives for demos, tests and benchmarks.

pub mod archive;
pub mod cli;
pub mod convert;
pub mod error;
pub mod functions;
pub mod lookup;
pub mod output;
pub mod progress;
pub mod queries;
pub mod record;
pub mod repl;
pub mod sample;
pub mod session;
pub mod table;
pub mod verify;
