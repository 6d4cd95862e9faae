//! Mutated and random input for every reader of untrusted text: the gzip
//! reader, the record decoder (trail documents, Event history JSON and
//! CSV), the JSON path parser of `json_extract*` and the saved-query header
//! parser. Each case must end in an answer or a named problem, never a
//! panic.
//!
//! Inputs start from real files (the fixtures in tests/data, the saved
//! queries, and `../shared/corpus` when it is there) and are mutated by a
//! seeded generator: truncations, bit flips, splices of two inputs,
//! inserted bytes (JSON punctuation, NUL, invalid UTF-8), repeated and
//! deleted runs. `TRAILSQL_FUZZ_CASES` sets the cases per reader (default
//! 1,500; `tests/fuzz.sh` runs many more); a case that ever failed is kept
//! in `tests/data/fuzz-regressions.txt` (reader and seed) and replayed
//! first, every run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::util::{files_under, repo};

/// xorshift64*: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes worth inserting: JSON's structure, escapes, NUL, a lone UTF-8
/// continuation byte, an invalid byte, a long number, a gzip magic.
const PIECES: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\0",
    b"\x80",
    b"\xff",
    b"null",
    b"true",
    b"1e999999",
    b"-0",
    b"\"Records\"",
    b"\"Events\"",
    b"\x1f\x8b",
    b"\n",
    b"\r\n",
];

/// One to four mutations of `input`, with material from `other`.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 => out.truncate(at),
            1 => {
                for _ in 0..1 + rng.below(8) {
                    if !out.is_empty() {
                        let i = rng.below(out.len());
                        out[i] ^= 1 << rng.below(8);
                    }
                }
            }
            2 => {
                // Splice: this input's head, the other's tail.
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            3 => {
                let piece = PIECES[rng.below(PIECES.len())];
                out.splice(at..at, piece.iter().copied());
            }
            4 => {
                let len = rng.below(64.min(out.len() - at.min(out.len()) + 1));
                let run = out[at.min(out.len())..(at + len).min(out.len())].to_vec();
                for _ in 0..1 + rng.below(3) {
                    out.splice(at..at, run.iter().copied());
                }
            }
            5 => {
                let end = (at + rng.below(256)).min(out.len());
                out.drain(at.min(end)..end);
            }
            _ => {
                let n = rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.splice(at..at, bytes);
            }
        }
    }
    out
}

/// Mutations that keep a document valid JSON, so that it reaches the
/// record decoder's checks: values of another type, members removed or
/// repeated, long strings, deep arrays, control characters in strings.
fn mutate_values(rng: &mut Rng, input: &[u8]) -> Option<Vec<u8>> {
    use serde_json::Value;
    let mut doc: Value = serde_json::from_slice(input).ok()?;
    fn pick<'a>(rng: &mut Rng, v: &'a mut Value, depth: usize) -> &'a mut Value {
        let children = match v {
            Value::Object(m) => m.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if children == 0 || depth > 6 || rng.below(3) == 0 {
            return v;
        }
        let i = rng.below(children);
        match v {
            Value::Object(m) => {
                let key = m.keys().nth(i).cloned().expect("in range");
                pick(rng, m.get_mut(&key).expect("there"), depth + 1)
            }
            Value::Array(a) => pick(rng, &mut a[i], depth + 1),
            _ => unreachable!("has children"),
        }
    }
    for _ in 0..1 + rng.below(4) {
        let target = pick(rng, &mut doc, 0);
        *target = match rng.below(9) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 0),
            2 => serde_json::json!(rng.next() as i64),
            3 => serde_json::json!(f64::from_bits(rng.next() & 0x7fef_ffff_ffff_ffff)),
            4 => Value::String("\u{1b}[2J\u{202e}\0".repeat(1 + rng.below(50))),
            5 => Value::Array(vec![target.clone(), target.clone()]),
            6 => serde_json::json!({"k": target.clone(), "eventTime": "not a time"}),
            7 => {
                let mut deep = Value::Null;
                for _ in 0..rng.below(300) {
                    deep = Value::Array(vec![deep]);
                }
                deep
            }
            _ => match target.clone() {
                Value::Object(mut m) if !m.is_empty() => {
                    let key = m.keys().nth(rng.below(m.len())).cloned().expect("in range");
                    m.remove(&key);
                    Value::Object(m)
                }
                other => Value::String(other.to_string()),
            },
        };
    }
    serde_json::to_vec(&doc).ok()
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(1));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The seed inputs: log documents (inflated), Event history files, and up
/// to 60 corpus files when the corpus is there.
fn documents() -> Vec<Vec<u8>> {
    let mut docs = Vec::new();
    let mut add = |path: &Path| {
        if let Ok(bytes) = std::fs::read(path) {
            let bytes = trailsql::read::maybe_gunzip(bytes, 64 << 20).unwrap_or_default();
            if !bytes.is_empty() && bytes.len() < 256 << 10 {
                docs.push(bytes);
            }
        }
    };
    for p in files_under(&repo().join("tests/data")) {
        let name = p.to_string_lossy();
        if name.ends_with(".json") || name.ends_with(".json.gz") || name.ends_with(".csv") {
            add(&p);
        }
    }
    let corpus = repo().join("../shared/corpus");
    if corpus.is_dir() {
        let mut found: Vec<_> = files_under(&corpus)
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".json"))
            .collect();
        found.sort();
        let step = (found.len() / 60).max(1);
        for p in found.iter().step_by(step).take(60) {
            add(p);
        }
    }
    assert!(docs.len() >= 5, "{} seed documents", docs.len());
    docs
}

/// How a case ended well: with an answer, or a problem that says what.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ended {
    Answer,
    Problem,
}

/// What every reader is given, and checks one case of.
type Reader = fn(&[Vec<u8>], &mut Rng) -> Result<Ended, String>;

/// The gzip reader then the decoder, on mutated gzip.
fn gzip_case(docs: &[Vec<u8>], rng: &mut Rng) -> Result<Ended, String> {
    let (a, b) = (&docs[rng.below(docs.len())], &docs[rng.below(docs.len())]);
    // Half the cases break the gzip itself (which its CRC-32 and length
    // mostly catch), half gzip a mutated document, several members of
    // them at times, so the decoder behind the reader is reached too.
    let input = match rng.below(4) {
        0 | 1 => mutate(rng, &gz(a), &gz(b)),
        2 => gz(&mutate_values(rng, a).unwrap_or_else(|| mutate(rng, a, b))),
        _ => [gz(a), gz(&mutate(rng, b, a))].concat(),
    };
    match trailsql::read::maybe_gunzip(input, 16 << 20) {
        Ok(text) => decode_case_of(&text),
        Err(problem) => named(&problem.0),
    }
}

/// The record decoder on mutated documents (trail, Event history JSON and
/// CSV).
fn decode_case(docs: &[Vec<u8>], rng: &mut Rng) -> Result<Ended, String> {
    let (a, b) = (&docs[rng.below(docs.len())], &docs[rng.below(docs.len())]);
    let input = match rng.below(2) {
        0 => mutate_values(rng, a).unwrap_or_else(|| mutate(rng, a, b)),
        _ => mutate(rng, a, b),
    };
    decode_case_of(&input)
}

fn decode_case_of(text: &[u8]) -> Result<Ended, String> {
    match trailsql::record::decode_document(text, "fuzz/case.json") {
        Ok((batches, outcome)) => {
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            if rows != outcome.records {
                return Err(format!("{rows} rows for {} records", outcome.records));
            }
            for skipped in &outcome.skipped {
                named(&skipped.reason)?;
            }
            Ok(Ended::Answer)
        }
        Err(problem) => named(&problem.0),
    }
}

/// The JSON path parser, and a walk of a document by what it parsed.
fn path_case(_: &[Vec<u8>], rng: &mut Rng) -> Result<Ended, String> {
    const PATHS: &[&[u8]] = &[
        b"$.a.b[0]",
        b"$['x y'][12].z",
        b"$.tableName",
        b"$[0][1]",
        b"$.a[\"b\"]",
    ];
    let (a, b) = (PATHS[rng.below(PATHS.len())], PATHS[rng.below(PATHS.len())]);
    let path = String::from_utf8_lossy(&mutate(rng, a, b)).into_owned();
    let doc = serde_json::json!({"a": {"b": [1, {"c": "d"}]}, "x y": [[0]], "tableName": "t"});
    match trailsql::functions::json::parse_path(&path) {
        Ok(steps) => {
            let _ = trailsql::functions::json::walk(&doc, &steps);
            Ok(Ended::Answer)
        }
        Err(why) => named(&why),
    }
}

/// The saved-query header parser, on mutated saved queries.
fn header_case(_: &[Vec<u8>], rng: &mut Rng) -> Result<Ended, String> {
    let queries: Vec<_> = files_under(&repo().join("queries"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    let (a, b) = (
        std::fs::read(&queries[rng.below(queries.len())]).unwrap(),
        std::fs::read(&queries[rng.below(queries.len())]).unwrap(),
    );
    let text = String::from_utf8_lossy(&mutate(rng, &a, &b)).into_owned();
    match trailsql::queries::SavedQuery::parse("fuzz/case", &text, "fuzz") {
        Ok(_) => Ok(Ended::Answer),
        Err(e) => named(&e.to_string()),
    }
}

/// A problem must say what it is.
fn named(why: &str) -> Result<Ended, String> {
    if why.trim().is_empty() {
        Err("a problem without a reason".into())
    } else {
        Ok(Ended::Problem)
    }
}

const READERS: &[(&str, Reader)] = &[
    ("gzip", gzip_case),
    ("decode", decode_case),
    ("path", path_case),
    ("header", header_case),
];

/// Run one case; a panic is caught and reported as the case's failure.
fn run_case(reader: Reader, docs: &[Vec<u8>], seed: u64) -> Result<Ended, String> {
    let mut rng = Rng::new(seed);
    match catch_unwind(AssertUnwindSafe(|| reader(docs, &mut rng))) {
        Ok(result) => result,
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("?")
        )),
    }
}

#[test]
fn no_reader_panics_on_mutated_input() {
    let docs = documents();
    let cases: u64 = std::env::var("TRAILSQL_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_500);
    let start: u64 = std::env::var("TRAILSQL_FUZZ_START")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let mut failed = Vec::new();
    // The kept regressions first.
    let kept = std::fs::read_to_string(repo().join("tests/data/fuzz-regressions.txt")).unwrap();
    let mut replayed = 0;
    for line in kept
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (name, seed) = line.split_once(' ').expect("READER SEED");
        let reader = READERS
            .iter()
            .find(|(n, _)| *n == name)
            .expect("a reader")
            .1;
        let seed: u64 = seed.trim().parse().expect("a seed");
        if let Err(why) = run_case(reader, &docs, seed) {
            failed.push(format!("{name} {seed}: {why}"));
        }
        replayed += 1;
    }
    for (name, reader) in READERS {
        let mut answers = 0;
        for seed in start..start + cases {
            match run_case(*reader, &docs, seed) {
                Ok(Ended::Answer) => answers += 1,
                Ok(Ended::Problem) => {}
                Err(why) => failed.push(format!("{name} {seed}: {why}")),
            }
        }
        // The mutations reach both ends: inputs still read, and inputs
        // refused with a reason (else the cases test one path only).
        let share = answers as f64 / cases as f64;
        eprintln!("{name}: {answers} of {cases} cases answered, the rest named a problem");
        assert!(
            (0.05..=0.95).contains(&share),
            "{name}: {answers} of {cases} answered"
        );
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases failed ({replayed} kept ones replayed first); add each \
         `READER SEED` to tests/data/fuzz-regressions.txt once fixed:\n{}",
        failed.len(),
        cases as usize * READERS.len() + replayed,
        failed.join("\n")
    );
}

#[test]
fn mutations_change_the_input_and_are_the_same_for_a_seed() {
    let a = b"{\"Records\":[{\"eventID\":\"x\"}]}".to_vec();
    let mut changed = 0;
    for seed in 0..200 {
        let one = mutate(&mut Rng::new(seed), &a, b"[1,2]");
        let again = mutate(&mut Rng::new(seed), &a, b"[1,2]");
        assert_eq!(one, again, "seed {seed}");
        changed += usize::from(one != a);
    }
    assert!(changed > 180, "{changed} of 200 changed");
}
