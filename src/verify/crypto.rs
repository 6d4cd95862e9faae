//! The cryptography of CloudTrail's digest files, in one place for the
//! verifier and the sample archive's signer: the public keys `aws
//! cloudtrail list-public-keys` prints (checked against their
//! fingerprints), SHA-256 in hex, and the string a digest's signature is
//! made over. It imports only `archive` (where a local copy keeps its keys)
//! and `error`.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use md5::{Digest as _, Md5};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use serde::Deserialize;
use sha2::Sha256;

use crate::archive::Source;
use crate::error::{Error, Result};

/// Where a local copy keeps its public keys by default, beside `AWSLogs/`
/// (and where `trailsql sample` writes its key).
pub const PUBLIC_KEYS_FILE: &str = "public-keys.json";

/// Public keys by fingerprint (lower-case hex MD5 of the DER key), from the
/// JSON `aws cloudtrail list-public-keys` prints.
#[derive(Debug, Default)]
pub struct PublicKeys {
    keys: HashMap<String, RsaPublicKey>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyList {
    public_key_list: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyEntry {
    value: String,
    fingerprint: String,
}

impl PublicKeys {
    /// Parse `list-public-keys` output. Each `Value` is a base64 DER RSA key,
    /// PKCS#1 or SubjectPublicKeyInfo; its `Fingerprint` must be the MD5 of
    /// those bytes, or the file is refused (a key that does not match its
    /// fingerprint could make a forged digest look valid).
    pub fn from_json(text: &str, origin: &str) -> Result<PublicKeys> {
        let bad = |why: String| Error::Usage(format!("{origin}: {why}"));
        let list: KeyList = serde_json::from_str(text)
            .map_err(|e| bad(format!("not list-public-keys output ({e})")))?;
        let mut keys = HashMap::new();
        for (i, k) in list.public_key_list.iter().enumerate() {
            let der = base64::engine::general_purpose::STANDARD
                .decode(k.value.trim())
                .map_err(|e| bad(format!("key {i}: Value is not base64 ({e})")))?;
            let fingerprint = hex(&Md5::digest(&der));
            if !fingerprint.eq_ignore_ascii_case(k.fingerprint.trim()) {
                return Err(bad(format!(
                    "key {i}: Fingerprint {} is not the MD5 of its Value ({fingerprint})",
                    k.fingerprint
                )));
            }
            let key = RsaPublicKey::from_pkcs1_der(&der)
                .or_else(|_| RsaPublicKey::from_public_key_der(&der))
                .map_err(|e| bad(format!("key {i}: not an RSA public key ({e})")))?;
            keys.insert(fingerprint, key);
        }
        Ok(PublicKeys { keys })
    }

    /// The key with this fingerprint (lower-case hex).
    pub fn get(&self, fingerprint: &str) -> Option<&RsaPublicKey> {
        self.keys.get(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The string a digest's signature is made over.
pub fn data_to_sign(
    end_time: &str,
    bucket: &str,
    object: &str,
    digest_sha256: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{object}\n{digest_sha256}\n{}",
        previous_signature.unwrap_or("null")
    )
}

/// The keys in `file`, else (for a local copy) in `public-keys.json` at its
/// top when there is one, else none; and which file they came from. Keys are
/// never taken from the bucket being checked: whoever could change its log
/// files could change a key file beside them.
pub fn load_keys(
    source: &Source,
    file: Option<&Path>,
) -> Result<(PublicKeys, Option<std::path::PathBuf>)> {
    let default = source.local_path().map(|root| root.join(PUBLIC_KEYS_FILE));
    let file = match (file, default) {
        (Some(f), _) => f.to_path_buf(),
        (None, Some(d)) if d.is_file() => d,
        _ => return Ok((PublicKeys::default(), None)),
    };
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
    let keys = PublicKeys::from_json(&text, &file.display().to_string())?;
    Ok((keys, Some(file)))
}
