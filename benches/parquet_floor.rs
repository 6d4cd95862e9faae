//! How fast the aggregate of `benches/convert.sh` can be with arrow-rs's
//! Parquet reader and no SQL engine: the errors of each caller in a time
//! window, counted from a converted dataset's files with the reader alone,
//! in the cheapest way we found to use it. It is the floor under what
//! trailsql (DataFusion over the same reader) can reach on these files.
//!
//! The files are the manifest's (replaced files left out), those whose time
//! span meets the window; of each only `errorcode` and the top-level copy
//! `useridentity_arn` are read (and `eventtime` where the window cuts
//! through the file), both as dictionaries, with no statistics decoded from
//! the footer, on two threads (the machine's cores). Prints the answer as
//! `trailsql --format csv` does, so the script can compare the two.
//!
//!   parquet_floor DATASET FROM TO      (FROM, TO: RFC 3339; FROM <= eventtime < TO)

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, Scalar, TimestampMillisecondArray};
use datafusion::arrow::compute::{self, kernels::cmp};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, TimestampMillisecondType};
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::file::metadata::ParquetStatisticsPolicy;
use trailsql::archive::Source;
use trailsql::dataset::{Dataset, FileEntry};

/// A file to read, and whether the window cuts through its time span.
struct Job {
    path: std::path::PathBuf,
    cut: bool,
}

fn millis(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .timestamp_millis()
}

fn jobs(dataset: &Path, from: i64, to: i64) -> Vec<Job> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let place = Source::Local(dataset.to_path_buf());
    let manifest = runtime
        .block_on(Dataset::open(&place))
        .unwrap_or_else(|e| panic!("{e}"));
    // (file, earliest, latest) of the files whose span meets the window.
    let mut files: Vec<(&FileEntry, i64, i64)> = manifest
        .files()
        .filter_map(|f| Some((f, f.min_ms?, f.max_ms?)))
        .filter(|&(_, earliest, latest)| latest >= from && earliest < to)
        .collect();
    // Biggest first, dealt round the threads (as trailsql deals them).
    files.sort_by(|(a, ..), (b, ..)| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
    files
        .into_iter()
        .map(|(f, earliest, latest)| Job {
            path: dataset.join(&f.path),
            cut: earliest < from || latest >= to,
        })
        .collect()
}

/// `field` read as a dictionary of strings.
fn as_dictionary(field: &Field) -> Field {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    field.clone().with_data_type(dictionary)
}

/// Errors per "arn\0errorcode" in `jobs`.
fn count(jobs: &[&Job], from: i64, to: i64) -> HashMap<String, u64> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut key = String::new();
    for job in jobs {
        let file = File::open(&job.path).unwrap_or_else(|e| panic!("{}: {e}", job.path.display()));
        let options = ArrowReaderOptions::new()
            .with_column_stats_policy(ParquetStatisticsPolicy::SkipAll)
            .with_encoding_stats_policy(ParquetStatisticsPolicy::SkipAll)
            .with_size_stats_policy(ParquetStatisticsPolicy::SkipAll);
        let metadata = ArrowReaderMetadata::load(&file, options.clone()).expect("a Parquet footer");
        let hinted: Vec<Field> = metadata
            .schema()
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "errorcode" | "useridentity_arn" => as_dictionary(f),
                _ => f.as_ref().clone(),
            })
            .collect();
        let metadata = ArrowReaderMetadata::try_new(
            Arc::clone(metadata.metadata()),
            options.with_schema(Arc::new(Schema::new(hinted))),
        )
        .expect("the schema hint fits the file");
        let parquet_schema = metadata.parquet_schema();
        let wanted = |name: &str| {
            name == "errorcode" || name == "useridentity_arn" || (job.cut && name == "eventtime")
        };
        let leaves: Vec<usize> = (0..parquet_schema.num_columns())
            .filter(|&i| wanted(&parquet_schema.column(i).path().string()))
            .collect();
        let mask = ProjectionMask::leaves(parquet_schema, leaves);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata)
            .with_projection(mask)
            .with_batch_size(8192)
            .build()
            .expect("a reader");
        for batch in reader {
            let batch: RecordBatch = batch.expect("a batch");
            let column = |name: &str| batch.column_by_name(name).expect(name).clone();
            let errorcode = column("errorcode");
            let mut keep = compute::is_not_null(&errorcode).expect("is_not_null");
            if job.cut {
                let time = column("eventtime");
                let time = time.as_primitive::<TimestampMillisecondType>();
                let after = cmp::gt_eq(time, &scalar_like(time, from)).expect(">=");
                let before = cmp::lt(time, &scalar_like(time, to)).expect("<");
                keep =
                    compute::and(&keep, &compute::and(&after, &before).expect("and")).expect("and");
            }
            let arn = compute::filter(&column("useridentity_arn"), &keep).expect("filter");
            let errorcode = compute::filter(&errorcode, &keep).expect("filter");
            let arn = arn.as_dictionary::<Int32Type>();
            let errorcode = errorcode.as_dictionary::<Int32Type>();
            let (arn_values, code_values) = (
                arn.values().as_string::<i32>(),
                errorcode.values().as_string::<i32>(),
            );
            for row in 0..arn.len() {
                key.clear();
                match arn.is_valid(row) {
                    true => key.push_str(arn_values.value(arn.keys().value(row) as usize)),
                    false => key.push('-'),
                }
                key.push('\0');
                key.push_str(code_values.value(errorcode.keys().value(row) as usize));
                match counts.get_mut(key.as_str()) {
                    Some(n) => *n += 1,
                    None => {
                        counts.insert(key.clone(), 1);
                    }
                }
            }
        }
    }
    counts
}

fn csv_field(value: &str) -> String {
    match value.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", value.replace('"', "\"\"")),
        false => value.to_string(),
    }
}

/// `ms` as a one-value timestamp of `array`'s type (time zone included).
fn scalar_like(array: &TimestampMillisecondArray, ms: i64) -> Scalar<TimestampMillisecondArray> {
    Scalar::new(TimestampMillisecondArray::from(vec![ms]).with_data_type(array.data_type().clone()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dataset, from, to] = args.as_slice() else {
        eprintln!("usage: parquet_floor DATASET FROM TO   (RFC 3339 times)");
        std::process::exit(2);
    };
    let (from, to) = (millis(from), millis(to));
    let jobs = jobs(Path::new(dataset), from, to);
    let even: Vec<&Job> = jobs.iter().step_by(2).collect();
    let odd: Vec<&Job> = jobs.iter().skip(1).step_by(2).collect();
    let mut counts = std::thread::scope(|s| {
        let other = s.spawn(|| count(&odd, from, to));
        let mut counts = count(&even, from, to);
        for (key, n) in other.join().expect("the other thread") {
            *counts.entry(key).or_insert(0) += n;
        }
        counts
    })
    .into_iter()
    .map(|(key, n)| {
        let (arn, code) = key.split_once('\0').expect("arn\\0errorcode");
        (arn.to_string(), code.to_string(), n)
    })
    .collect::<Vec<_>>();
    counts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    println!("arn,errorcode,n");
    for (arn, code, n) in counts.iter().take(10) {
        println!("{},{},{n}", csv_field(arn), csv_field(code));
    }
}
