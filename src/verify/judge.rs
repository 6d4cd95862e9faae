//! Judging what was read: each digest (its place, hash and signature),
//! the link from each digest back to the one before it, each log file a
//! digest lists, and the log files no digest lists. `verify` reads; this
//! decides.
//!
//! Of trailsql it imports `archive` and `window`, and its own folder.

use std::collections::{BTreeMap, HashMap};

use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use sha2::Sha256;

use super::crypto::{data_to_sign, unhex, PublicKeys};
use super::{in_window, log_delivery_time, Digest, Finding, Kind, ListedLog, Read, Report, State};
use crate::archive::{tail_key, Listing};
use crate::window::Window;

fn verify_signature(
    keys: &PublicKeys,
    digest: &Digest,
    signature_hex: &str,
) -> std::result::Result<(), (State, String)> {
    let fp = digest
        .body
        .digest_public_key_fingerprint
        .to_ascii_lowercase();
    let Some(key) = keys.get(&fp) else {
        return Err((
            State::NoKey,
            format!("no key with fingerprint {fp} in the public keys given"),
        ));
    };
    let bad = |why: &str| (State::BadSignature, why.to_string());
    let sig_bytes = unhex(signature_hex).ok_or_else(|| bad("the signature is not hex"))?;
    let signature =
        Signature::try_from(sig_bytes.as_slice()).map_err(|_| bad("the signature is malformed"))?;
    let data = data_to_sign(
        &digest.body.digest_end_time,
        &digest.body.digest_s3_bucket,
        &digest.body.digest_s3_object,
        &digest.sha256,
        digest.body.previous_digest_signature.as_deref(),
    );
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(data.as_bytes(), &signature)
        .map_err(|_| {
            bad(&format!(
                "SHA256withRSA signature does not verify with key {fp}"
            ))
        })
}

/// Check one digest's signature. From S3 the signature is the one in the
/// object's metadata, as CloudTrail wrote it; from a copy it is the one the
/// next digest recorded, and the newest digest has none.
fn judge_digest(
    d: &Digest,
    next: Option<&Digest>,
    newest: bool,
    keys: &PublicKeys,
) -> (State, String) {
    if let Some(next) = next {
        if next.body.previous_digest_hash_value.as_deref() != Some(d.sha256.as_str()) {
            return (
                State::Modified,
                format!(
                    "SHA-256 is {}, the next digest recorded {}",
                    d.sha256,
                    next.body
                        .previous_digest_hash_value
                        .as_deref()
                        .unwrap_or("none")
                ),
            );
        }
    }
    let recorded = next.and_then(|n| n.body.previous_digest_signature.as_deref());
    match &d.metadata {
        Some(metadata) => {
            let Some(signature) = metadata.get("signature") else {
                return (
                    State::BadSignature,
                    "no signature in the object's metadata (x-amz-meta-signature): \
                     CloudTrail writes one on every digest"
                        .into(),
                );
            };
            if let Some(algorithm) = metadata.get("signature-algorithm") {
                if !algorithm.eq_ignore_ascii_case("SHA256withRSA") {
                    return (
                        State::BadSignature,
                        format!("signature algorithm {algorithm:?}, not SHA256withRSA"),
                    );
                }
            }
            if let Err(why) = verify_signature(keys, d, signature) {
                return why;
            }
            match recorded {
                Some(r) if !r.eq_ignore_ascii_case(signature) => (
                    State::BadSignature,
                    "the signature in its metadata verifies, but the next digest recorded \
                     another one"
                        .into(),
                ),
                _ => (
                    State::Valid,
                    "signature (from the object's metadata) verified".into(),
                ),
            }
        }
        None => match recorded {
            Some(signature) => match verify_signature(keys, d, signature) {
                Ok(()) => (State::Valid, "hash and signature verified".into()),
                Err(why) => why,
            },
            None if next.is_some() => (
                State::BadSignature,
                "the next digest recorded no signature for it".into(),
            ),
            None if newest => (
                State::Unverifiable,
                "newest digest of its chain: its signature is kept in the S3 object's \
                 metadata, which a local copy does not have, and no later digest holds \
                 its hash; the log files it lists are checked against it as it is"
                    .into(),
            ),
            None => (
                State::Unverifiable,
                "no later digest names it as its previous, so nothing holds its hash \
                 or signature (see the chain findings)"
                    .into(),
            ),
        },
    }
}

/// The findings for the digests read (`chains`, each oldest first) and the
/// log files (`hashes`: the SHA-256 of every listed log file present).
pub(super) fn judge(
    listing: &Listing,
    chains: &BTreeMap<(String, String, String, String, bool), Vec<Digest>>,
    hashes: &HashMap<String, Read<String>>,
    bucket: Option<&str>,
    keys: &PublicKeys,
    window: &Window,
    report: &mut Report,
) {
    let logs: HashMap<&str, &str> = listing
        .logs
        .iter()
        .filter(|l| l.key.is_some())
        .map(|l| (tail_key(&l.location), l.location.as_str()))
        .collect();
    // Each listed log file's key, with the digest that lists it.
    let mut listed: HashMap<String, String> = HashMap::new();
    // Newest digest end per (account, region), for "not yet covered".
    let mut newest_end: HashMap<(String, String), String> = HashMap::new();
    for digests in chains.values() {
        let chain = Chain::new(digests);
        for (i, d) in digests.iter().enumerate() {
            let entry = newest_end
                .entry((d.name.account.clone(), d.name.region.clone()))
                .or_default();
            if d.body.digest_end_time > *entry {
                *entry = d.body.digest_end_time.clone();
            }
            report.findings.push(chain.judge(i, bucket, keys));
            report.findings.extend(chain.link(i));
            for log in &d.body.log_files {
                let key = tail_key(&log.s3_object).to_string();
                listed.insert(key.clone(), d.location.clone());
                report
                    .findings
                    .push(judge_listed(d, log, &key, &logs, hashes));
            }
        }
    }
    judge_unlisted(listing, &listed, &newest_end, window, report);
}

/// One chain of digests, oldest first, with where each sits in it.
struct Chain<'d> {
    digests: &'d [Digest],
    /// Position by key.
    by_key: HashMap<&'d str, usize>,
    /// Which digest names each one as its previous (and so holds its hash
    /// and signature).
    named_by: HashMap<&'d str, usize>,
}

impl<'d> Chain<'d> {
    fn new(digests: &'d [Digest]) -> Chain<'d> {
        let by_key = digests
            .iter()
            .enumerate()
            .map(|(i, d)| (tail_key(&d.location), i))
            .collect();
        let named_by = digests
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((tail_key(d.body.previous_digest_s3_object.as_deref()?), i)))
            .collect();
        Chain {
            digests,
            by_key,
            named_by,
        }
    }

    /// The finding for digest `i` itself: where it says it is, its hash
    /// and its signature.
    fn judge(&self, i: usize, bucket: Option<&str>, keys: &PublicKeys) -> Finding {
        let d = &self.digests[i];
        let (state, detail) = if tail_key(&d.body.digest_s3_object) != tail_key(&d.location) {
            (
                State::Modified,
                format!(
                    "says it is {} but is stored as {}: moved or renamed",
                    d.body.digest_s3_object,
                    tail_key(&d.location)
                ),
            )
        } else if let Some(b) = bucket.filter(|b| *b != d.body.digest_s3_bucket) {
            (
                State::Modified,
                format!(
                    "says it is in bucket {} but is stored in {b}: moved or copied",
                    d.body.digest_s3_bucket
                ),
            )
        } else {
            let next = self
                .named_by
                .get(tail_key(&d.location))
                .map(|&n| &self.digests[n]);
            let newest = i + 1 == self.digests.len();
            judge_digest(d, next, newest, keys)
        };
        Finding {
            kind: Kind::Digest,
            file: d.location.clone(),
            state,
            digest: None,
            detail,
        }
    }

    /// The finding for the link from digest `i` back to the one before it,
    /// when it is not as it should be.
    fn link(&self, i: usize) -> Option<Finding> {
        let d = &self.digests[i];
        let gap = |detail: String| Finding {
            kind: Kind::Chain,
            file: d.location.clone(),
            state: State::Gap,
            digest: Some(d.location.clone()),
            detail,
        };
        let Some(prev) = d.body.previous_digest_s3_object.as_deref() else {
            if i == 0 {
                return None;
            }
            let before = &self.digests[i - 1];
            return Some(gap(format!(
                "the chain starts again: no digest between {} and {} \
                 (logging or validation was off, or digests were removed)",
                before.body.digest_end_time, d.body.digest_start_time
            )));
        };
        match self.by_key.get(tail_key(prev)) {
            Some(&j) if i > 0 && j == i - 1 => {
                let before = &self.digests[j];
                (before.body.digest_end_time != d.body.digest_start_time).then(|| {
                    gap(format!(
                        "no digest covers {} to {}",
                        before.body.digest_end_time, d.body.digest_start_time
                    ))
                })
            }
            Some(&j) => {
                let skipped: Vec<&str> = self.digests[j + 1..i]
                    .iter()
                    .map(|s| tail_key(&s.location))
                    .collect();
                Some(gap(format!(
                    "points back to {} and skips {} digest(s) between ({}): \
                     a chain that skips a digest",
                    tail_key(prev),
                    skipped.len(),
                    skipped.join(", ")
                )))
            }
            // The copy (or the window) starts here; the previous digest is
            // before it.
            None if i == 0 => None,
            None => Some(Finding {
                kind: Kind::Digest,
                file: tail_key(prev).to_string(),
                state: State::Missing,
                digest: Some(d.location.clone()),
                detail: format!(
                    "named as previous by {}, not in the archive: no digest \
                     covers {} to {}",
                    tail_key(&d.location),
                    self.digests[i - 1].body.digest_end_time,
                    d.body.digest_start_time
                ),
            }),
        }
    }
}

/// The finding for a log file digest `d` lists (as `key`): missing, or its
/// hash against the one recorded.
fn judge_listed(
    d: &Digest,
    log: &ListedLog,
    key: &str,
    logs: &HashMap<&str, &str>,
    hashes: &HashMap<String, Read<String>>,
) -> Finding {
    let Some(location) = logs.get(key) else {
        return Finding {
            kind: Kind::Log,
            file: key.to_string(),
            state: State::Missing,
            digest: Some(d.location.clone()),
            detail: "listed in the digest, not in the archive".into(),
        };
    };
    let (state, detail) = match hashes.get(*location) {
        Some(Ok(actual)) if actual.eq_ignore_ascii_case(&log.hash_value) => {
            (State::Valid, "SHA-256 matches the digest".to_string())
        }
        Some(Ok(actual)) => (
            State::Modified,
            format!(
                "SHA-256 is {actual}, the digest recorded {}",
                log.hash_value
            ),
        ),
        Some(Err(e)) => (State::Unreadable, e.0.clone()),
        None => (State::Unreadable, "not read".to_string()),
    };
    Finding {
        kind: Kind::Log,
        file: location.to_string(),
        state,
        digest: Some(d.location.clone()),
        detail,
    }
}

/// The findings for log files of the window that no digest lists.
fn judge_unlisted(
    listing: &Listing,
    listed: &HashMap<String, String>,
    newest_end: &HashMap<(String, String), String>,
    window: &Window,
    report: &mut Report,
) {
    for log in &listing.logs {
        let Some(info) = &log.key else { continue };
        let key = tail_key(&log.location);
        if listed.contains_key(key) {
            continue;
        }
        let delivered = log_delivery_time(&log.location);
        if let Some(t) = &delivered {
            if !in_window(window, t) {
                continue;
            }
        }
        let newest = newest_end.get(&(info.account.clone(), info.region.clone()));
        let (state, detail) = match (newest, &delivered) {
            (Some(end), Some(t)) if t >= end => (
                State::NotYetCovered,
                format!("delivered at {t}, after the newest digest ({end})"),
            ),
            (None, _) => (
                State::NotCovered,
                "no digest for its account and region in the archive".to_string(),
            ),
            _ => (
                State::NotCovered,
                "in no digest: added to the archive, or its digest is missing".to_string(),
            ),
        };
        report.findings.push(Finding {
            kind: Kind::Log,
            file: log.location.clone(),
            state,
            digest: None,
            detail,
        });
    }
}
