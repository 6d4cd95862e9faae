//! What a CloudTrail record is: the one canonical Arrow schema (`schema`), the
//! decoder that turns log-file bytes into batches of that schema (`decode`), and
//! the inverse that rebuilds a record's JSON from its row (`rebuild`).
//!
//! Everything that reads events (tables, conversion, tests) goes through here,
//! so a fix in decoding fixes every command.
//!
//! It imports nothing of trailsql outside `record/`.

pub mod decode;
pub mod rebuild;
pub mod schema;
pub mod time;

pub use decode::{decode_document, Decoder, FileOutcome, FileProblem};
pub use schema::{canonical_schema, EXTRA_FIELDS, LOG_OBJECT};
