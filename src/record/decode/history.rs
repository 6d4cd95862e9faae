//! The console's Event history CSV download: its columns, read by their
//! names, each value written into the record field it is.
//!
//! It imports nothing of trailsql outside `record/`.

use serde::de::DeserializeSeed;
use serde_json::{Map, Value};

use super::{FileProblem, RecordSeed, Target};

/// The column names of the console's Event history CSV download, lower case
/// with everything but letters and digits removed, and the record field each
/// one is (`userIdentity.userName` is nested). AWS documents the columns by
/// their labels (Event name, Event time, User name, Event source, Resource
/// type, Resource name, and the optional AWS access key, AWS region, Error
/// code, Event ID, Read-only, Source IP address), not the file's exact header,
/// so names are matched loosely; `eventtime` and `EventTime` work too.
const CSV_COLUMNS: &[(&str, &str)] = &[
    ("eventid", "eventID"),
    ("eventtime", "eventTime"),
    ("eventname", "eventName"),
    ("eventsource", "eventSource"),
    ("username", "userIdentity.userName"),
    ("awsaccesskey", "userIdentity.accessKeyId"),
    ("accesskeyid", "userIdentity.accessKeyId"),
    ("awsregion", "awsRegion"),
    ("errorcode", "errorCode"),
    ("sourceipaddress", "sourceIPAddress"),
    ("readonly", "readOnly"),
];

fn normalise_header(h: &str) -> String {
    h.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// An Event history CSV download. A cell holding a whole event (a JSON object
/// with `eventVersion`, `eventName` or `eventSource`, as a "CloudTrail event"
/// column would) is decoded as the record; otherwise the record is made of the
/// known columns ([`CSV_COLUMNS`]), and every other non-empty column is kept
/// under its own header in `extra_fields` (Resource type and Resource name
/// among them), so nothing in the file is lost.
pub(super) fn csv_records(target: &mut Target, text: &str) -> Result<(), FileProblem> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| FileProblem(format!("not JSON, and not CSV: {e}")))?
        .clone();
    let fields: Vec<Option<&str>> = headers
        .iter()
        .map(|h| {
            let n = normalise_header(h);
            CSV_COLUMNS.iter().find(|(k, _)| *k == n).map(|(_, f)| *f)
        })
        .collect();
    let event_column = headers
        .iter()
        .position(|h| matches!(normalise_header(h).as_str(), "cloudtrailevent" | "event"));
    if fields.iter().all(Option::is_none) && event_column.is_none() {
        return Err(FileProblem(
            "not JSON, and not a CSV with Event history columns (Event name, Event time, ...)"
                .into(),
        ));
    }
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| FileProblem(format!("CSV row {}: {e}", i + 2)))?;
        if let Some(cell) = event_column.and_then(|c| row.get(c)) {
            if cell.trim_start().starts_with('{') {
                let mut de = serde_json::Deserializer::from_str(cell);
                RecordSeed(target)
                    .deserialize(&mut de)
                    .and_then(|()| de.end())
                    .map_err(|e| {
                        FileProblem(format!(
                            "CSV row {}: the event is not valid JSON: {e}",
                            i + 2
                        ))
                    })?;
                continue;
            }
        }
        let mut record = Map::new();
        let mut identity = Map::new();
        for (j, cell) in row.iter().enumerate() {
            if cell.is_empty() || Some(j) == event_column {
                continue;
            }
            match fields.get(j).copied().flatten() {
                Some(f) => {
                    let value = match f {
                        "readOnly" => match cell.to_ascii_lowercase().as_str() {
                            "true" => Value::Bool(true),
                            "false" => Value::Bool(false),
                            _ => Value::String(cell.to_string()),
                        },
                        _ => Value::String(cell.to_string()),
                    };
                    match f.strip_prefix("userIdentity.") {
                        Some(inner) => identity.insert(inner.to_string(), value),
                        None => record.insert(f.to_string(), value),
                    };
                }
                None => {
                    let name = headers.get(j).unwrap_or("").to_string();
                    record.insert(name, Value::String(cell.to_string()));
                }
            }
        }
        if !identity.is_empty() {
            record.insert("userIdentity".into(), Value::Object(identity));
        }
        let text = Value::Object(record).to_string();
        let mut de = serde_json::Deserializer::from_str(&text);
        RecordSeed(target)
            .deserialize(&mut de)
            .map_err(|e| FileProblem(format!("CSV row {}: {e}", i + 2)))?;
    }
    Ok(())
}
