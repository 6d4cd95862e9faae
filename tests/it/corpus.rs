//! Every event of ../shared/corpus decodes, and its row rebuilds to the same JSON.

use serde_json::Value;
use trailsql::record::decode_document;
use trailsql::record::rebuild::rebuild_batch;

fn records_of(doc: &Value) -> Vec<Value> {
    match doc {
        Value::Object(m) if m.contains_key("Records") => {
            m["Records"].as_array().cloned().unwrap_or_default()
        }
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

#[test]
fn every_corpus_event_decodes_and_rebuilds_exactly() {
    let Some(root) = crate::util::corpus() else {
        return;
    };
    let mut files = 0;
    let mut events = 0;
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("other-formats") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let original: Value = serde_json::from_slice(&bytes).unwrap();
            let (batches, out) = decode_document(&bytes, &path.display().to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                out.skipped.is_empty(),
                "{}: {:?}",
                path.display(),
                out.skipped
            );
            let rebuilt: Vec<Value> = batches.iter().flat_map(rebuild_batch).collect();
            let expected = records_of(&original);
            assert_eq!(rebuilt.len(), expected.len(), "{}", path.display());
            for (i, (got, want)) in rebuilt.iter().zip(&expected).enumerate() {
                assert_eq!(got, want, "{} record {i}", path.display());
            }
            files += 1;
            events += expected.len();
        }
    }
    assert_eq!(events, 998, "the corpus has 998 records (SOURCES.md)");
    assert_eq!(files, 312);
}
