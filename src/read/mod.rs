//! The read pipeline every reader of a raw archive shares: the table
//! provider, `convert` and `verify`. Log files come in as a listing's
//! [`LogFile`]s; [`chunks`] cuts them into runs of about a MiB of gzip;
//! a run's bytes are fetched by the source ([`Source::fetch_run`], at most
//! `--max-concurrency` GETs at once from S3) or read by the decoding task
//! (local); [`maybe_gunzip`] inflates them and the record decoder turns them
//! into Arrow batches of the canonical schema ([`decode_chunk`]); what was
//! read and what had to be skipped goes to a [`Report`].
//!
//! It imports `archive` (what to read), `record` (how to decode) and
//! `output` (escaping what a warning quotes), nothing above them.
//!
//! [`Source::fetch_run`]: crate::archive::Source::fetch_run

pub mod gunzip;
pub mod ledger;
pub mod report;

use std::ops::Range;

use datafusion::arrow::array::RecordBatch;

pub use gunzip::{maybe_gunzip, too_big};

/// What a log file may hold, inflated, unless `--max-file-mib` says
/// otherwise: far above any CloudTrail log file (a five-minute file of a
/// busy account is some MB; an event is at most 256 KB), low enough that a
/// planted file cannot take the machine's memory.
pub const DEFAULT_MAX_FILE_MIB: u64 = 512;
pub use ledger::Ledger;
pub use report::Report;

use crate::archive::LogFile;
use crate::record::decode::{Decoder, FileOutcome};
use crate::record::FileProblem;

/// Compressed bytes of log files that one blocking task decodes in a row, into
/// shared batches: a trail's files hold a few dozen records each, and a task, a
/// set of column builders and a batch per file cost more than the records. A
/// MiB of gzip is ~10 MB of JSON; a bigger file is a chunk of its own.
const CHUNK_BYTES: u64 = 1 << 20;

/// `files` as runs in their order, each closed once it holds [`CHUNK_BYTES`]
/// of gzip (so a bigger file is a run alone).
pub fn chunks(files: &[LogFile]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, f) in files.iter().enumerate() {
        bytes += f.size;
        if bytes >= CHUNK_BYTES {
            out.push(start..i + 1);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < files.len() {
        out.push(start..files.len());
    }
    out
}

/// What decoding one chunk gave: each file's outcome, and the rows.
pub type ChunkOutcome = (Vec<Result<FileOutcome, FileProblem>>, Vec<RecordBatch>);

/// Where a chunk's bytes are hashed as they are read, for an evidence pack:
/// the ledger, and the source as the user named it.
pub type Keep<'a> = Option<(&'a Ledger, &'a str)>;

/// Decode a chunk: the bytes fetched for it (from S3), or read here (local).
/// A file whose listed size, or inflated size, is over `max_file_bytes` is
/// a problem of its own, never read whole.
pub fn decode_chunk(
    files: &[LogFile],
    fetched: Option<Vec<Vec<u8>>>,
    projection: Option<&[usize]>,
    max_file_bytes: u64,
    keep: Keep<'_>,
) -> ChunkOutcome {
    let mut decoder = Decoder::new(projection);
    let outcomes = match fetched {
        None => files
            .iter()
            .map(|f| read_log_file(&mut decoder, f, max_file_bytes, keep))
            .collect(),
        Some(fetched) => files
            .iter()
            .zip(fetched)
            .map(|(f, bytes)| {
                if f.size > max_file_bytes {
                    return Err(too_big(max_file_bytes));
                }
                if let Some((ledger, source)) = keep {
                    ledger.saw(source, f, &bytes);
                }
                let text = maybe_gunzip(bytes, max_file_bytes)?;
                if let Some((ledger, source)) = keep {
                    ledger.inflated(source, f, &text);
                }
                decoder.decode(&text, &f.location)
            })
            .collect(),
    };
    (outcomes, decoder.finish())
}

/// Read, gunzip (detected by magic bytes, not the name) and decode one log
/// file into `decoder`.
pub fn read_log_file(
    decoder: &mut Decoder,
    file: &LogFile,
    max_file_bytes: u64,
    keep: Keep<'_>,
) -> Result<FileOutcome, FileProblem> {
    if file.size > max_file_bytes {
        return Err(too_big(max_file_bytes));
    }
    let bytes = crate::archive::read_local(&file.location)?;
    if let Some((ledger, source)) = keep {
        ledger.saw(source, file, &bytes);
    }
    let text = maybe_gunzip(bytes, max_file_bytes)?;
    if let Some((ledger, source)) = keep {
        ledger.inflated(source, file, &text);
    }
    decoder.decode(&text, &file.location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_file_once_and_close_at_the_byte_budget() {
        let f = |size| LogFile {
            location: String::new(),
            size,
            key: None,
            version: None,
        };
        let files = vec![
            f(CHUNK_BYTES * 3),
            f(CHUNK_BYTES / 2),
            f(CHUNK_BYTES / 2),
            f(10),
            f(10),
        ];
        assert_eq!(chunks(&files), vec![0..1, 1..3, 3..5]);
        assert!(chunks(&[]).is_empty());
    }
}
