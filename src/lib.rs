//! trailsql: an embedded SQL engine over AWS CloudTrail archives.
//!
//! The rooms, from the bottom up; each imports only rooms below it:
//!
//! - `error`, `record` (bytes to Arrow rows of the canonical schema),
//!   `functions` (SQL functions), `dialect` (Athena's syntax, rewritten),
//!   `output` (printers), `window` (time windows);
//! - `archive`: where log files live (a local folder or an S3 prefix, one
//!   [`archive::Source`]), listing and pruning, reading and writing objects;
//! - `read`: the pipeline every reader of a raw archive shares: chunks of
//!   log files fetched, gunzipped, decoded, problems reported;
//! - `dataset`: the converted dataset as a format (manifest, commits,
//!   checkpoints, file schema, Athena DDL);
//! - `verify`: digest validation (and `verify::crypto`, which the sample
//!   signer shares); `convert`: archive to dataset;
//! - `table`: DataFusion providers (raw, converted, integrity); `progress`;
//! - `session`: the SQL context; `console`: where results and messages go;
//!   `screen`: what a run of several saved queries shows on a terminal;
//!   `report`: a run as one self-contained HTML page; `evidence`: a run's
//!   evidence pack and its check;
//! - `queries`, `lookup`, `sample`: saved queries, Event history lookups,
//!   sample archives; `repl`: the shell; `cli`: the command line, on top.

pub mod archive;
pub mod cli;
pub mod console;
pub mod convert;
pub mod dataset;
pub mod dialect;
pub mod error;
pub mod evidence;
pub mod functions;
pub mod hunt;
pub mod lookup;
pub mod output;
pub mod pass;
pub mod progress;
pub mod queries;
pub mod read;
pub mod record;
pub mod repl;
pub mod report;
pub mod sample;
pub mod screen;
pub mod session;
pub mod sigma;
pub mod table;
pub mod verify;
pub mod window;
