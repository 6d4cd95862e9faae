//! Digest files for the sample archive, as a trail with log file validation
//! writes them: one per account, region and hour, listing the SHA-256 of the
//! log files delivered in that hour, chained to the previous digest and signed
//! (SHA256withRSA) with a key made for the sample. Its public key goes beside
//! the archive in the shape `aws cloudtrail list-public-keys` prints, so
//! `trailsql verify` works on the demo as on a real copy.
//!
//! The key in `key.pem` was generated for this purpose only and is public in
//! this repository: it proves nothing about anything but the sample. It is a
//! 1024-bit key where AWS's are 2048-bit: the sample signs one digest per
//! account, region and hour (8,784 for the default archive), and at 2048 bits
//! that took 14 s of the sample's time. Verification takes either size.
//!
//! Of trailsql it imports `error`, `verify`.

use std::path::Path;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use md5::{Digest as _, Md5};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::verify::{data_to_sign, hex, sha256_hex};

const KEY_PEM: &str = include_str!("key.pem");
/// The bucket the sample trail pretends to deliver to.
pub const BUCKET: &str = "trailsql-sample-trail";
pub const TRAIL: &str = "org-trail";
pub const HOME_REGION: &str = "us-east-1";
pub use crate::verify::PUBLIC_KEYS_FILE;

/// One log file written: its key from `AWSLogs/` on, delivery time, the
/// SHA-256 of its uncompressed bytes and its oldest and newest event times.
pub struct Delivered {
    pub key: String,
    pub delivered: DateTime<Utc>,
    pub sha256: String,
    pub oldest: DateTime<Utc>,
    pub newest: DateTime<Utc>,
}

pub struct SampleKey {
    key: SigningKey<Sha256>,
    fingerprint: String,
    public_der: Vec<u8>,
}

impl SampleKey {
    pub fn load() -> Result<SampleKey> {
        let private = RsaPrivateKey::from_pkcs8_pem(KEY_PEM)
            .map_err(|e| Error::Internal(format!("sample key: {e}")))?;
        let public_der = private
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| Error::Internal(format!("sample key: {e}")))?
            .as_bytes()
            .to_vec();
        Ok(SampleKey {
            fingerprint: hex(&Md5::digest(&public_der)),
            key: SigningKey::<Sha256>::new(private),
            public_der,
        })
    }

    fn sign(&self, data: &str) -> String {
        hex(&self.key.sign(data.as_bytes()).to_bytes())
    }

    /// `list-public-keys` output for the sample key, valid over the archive.
    pub fn public_keys_json(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> String {
        let doc = json!({"PublicKeyList": [{
            "Value": base64::engine::general_purpose::STANDARD.encode(&self.public_der),
            "ValidityStartTime": from.timestamp() as f64,
            "ValidityEndTime": to.timestamp() as f64,
            "Fingerprint": self.fingerprint,
        }]});
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Write the hourly digests of one account and region from `from` to `to`
/// (whole hours) for the log files in `files`. While `stopped` (from the
/// hour after logging stopped to the hour logging resumed) no digest is
/// written, and the next one starts a new chain, as CloudTrail does. Returns
/// how many digests were written.
#[allow(clippy::too_many_arguments)]
pub fn write_chain(
    dir: &Path,
    signer: &SampleKey,
    account: &str,
    region: &str,
    files: &[Delivered],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    stopped: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<u64> {
    let mut written = 0;
    let mut previous: Option<(String, String, String)> = None; // key, sha256, signature
    let mut end = from + Duration::hours(1);
    let mut start = from;
    while end <= to {
        if let Some((stop, resume)) = stopped {
            // The last digest is the one for the hour logging stopped in;
            // none for the hours wholly inside the stop.
            if start > stop && end <= resume {
                previous = None;
                start = end;
                end += Duration::hours(1);
                continue;
            }
        }
        let listed: Vec<&Delivered> = files
            .iter()
            .filter(|f| f.delivered >= start && f.delivered < end)
            .collect();
        let stamp = end.format("%Y%m%dT%H%M%SZ");
        let key = format!(
            "AWSLogs/{account}/CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{TRAIL}_{HOME_REGION}_{stamp}.json.gz",
            end.format("%Y/%m/%d")
        );
        let oldest = listed.iter().map(|f| f.oldest).min();
        let newest = listed.iter().map(|f| f.newest).max();
        let logs: Vec<Value> = listed
            .iter()
            .map(|f| {
                json!({
                    "s3Bucket": BUCKET,
                    "s3Object": f.key,
                    "hashValue": f.sha256,
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": time(f.newest),
                    "oldestEventTime": time(f.oldest),
                })
            })
            .collect();
        let prev_signature = previous.as_ref().map(|(_, _, sig)| sig.clone());
        let (prev_bucket, prev_key, prev_hash, prev_algorithm) = match &previous {
            Some((k, h, _)) => (json!(BUCKET), json!(k), json!(h), json!("SHA-256")),
            None => (Value::Null, Value::Null, Value::Null, Value::Null),
        };
        let doc = json!({
            "awsAccountId": account,
            "digestStartTime": time(start),
            "digestEndTime": time(end),
            "digestS3Bucket": BUCKET,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": signer.fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": newest.map(time),
            "oldestEventTime": oldest.map(time),
            "previousDigestS3Bucket": prev_bucket,
            "previousDigestS3Object": prev_key,
            "previousDigestHashValue": prev_hash,
            "previousDigestHashAlgorithm": prev_algorithm,
            "previousDigestSignature": prev_signature,
            "logFiles": logs,
        });
        let body = serde_json::to_vec(&doc).map_err(|e| Error::Internal(e.to_string()))?;
        let sha = sha256_hex(&body);
        let signature = signer.sign(&data_to_sign(
            &time(end),
            BUCKET,
            &key,
            &sha,
            prev_signature.as_deref(),
        ));
        super::write_gz_bytes(&dir.join(&key), &body)?;
        previous = Some((key, sha, signature));
        written += 1;
        start = end;
        end += Duration::hours(1);
    }
    Ok(written)
}
