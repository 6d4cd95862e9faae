//! `trailsql verify` on the sample archive (hourly digests, signed with the
//! sample's key): a copy as written passes, and each kind of tampering is
//! found and named.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::Value;
use trailsql::verify::{data_to_sign, hex, sha256_hex};

use crate::util::{bin, files_in, files_under, repo, run, text};

/// A two-day sample archive (no planted gap in it).
fn sample() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let st = bin()
        .args([
            "sample",
            dir.path().to_str().unwrap(),
            "--days",
            "2",
            "--events-per-day",
            "20",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    dir
}

/// The log files' folder of the sample's first day in us-east-1.
fn first_day(root: &Path) -> PathBuf {
    root.join("AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01")
}

/// The digests of one chain, oldest first.
fn chain(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let base = root.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/10");
    for day in std::fs::read_dir(base).unwrap() {
        for f in std::fs::read_dir(day.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

fn read_gz(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn write_gz(p: &Path, bytes: &[u8]) {
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(p).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap();
}

/// Change one byte of a log file's first event (the case of its event
/// name's first letter), re-compressed so the file still reads.
fn change_one_byte(file: &Path) {
    let mut bytes = read_gz(file);
    let at = bytes.windows(9).position(|w| w == b"eventName").unwrap() + 12;
    bytes[at] ^= 0x20;
    write_gz(file, &bytes);
}

/// Change one byte of the first log file of the sample's other account
/// on its second day in eu-west-1: the file, and how many events it holds.
fn change_a_file_of_the_other_account(root: &Path) -> (PathBuf, usize) {
    let day = root.join("AWSLogs/444455556666/CloudTrail/eu-west-1/2025/10/02");
    let file = files_in(&day).remove(0);
    let records = read_gz(&file)
        .windows(12)
        .filter(|w| w == b"\"eventTime\":")
        .count();
    change_one_byte(&file);
    (file, records)
}

fn digest(p: &Path) -> Value {
    serde_json::from_slice(&read_gz(p)).unwrap()
}

fn put_digest(p: &Path, v: &Value) {
    write_gz(p, &serde_json::to_vec(v).unwrap());
}

/// Run verify; its exit code and report.
fn verify(root: &Path) -> (Option<i32>, String) {
    let out = run(&["verify", root.to_str().unwrap()], "");
    (out.status.code(), text(&out.stdout))
}

/// The report must fail and hold a problem line `kind state: ...file...detail`.
fn assert_problem(root: &Path, kind_state: &str, file: &str, detail: &str) {
    let (code, report) = verify(root);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with(kind_state) && l.contains(file) && l.contains(detail)),
        "wanted `{kind_state}` for {file} ({detail}) in:\n{report}"
    );
}

fn tail(p: &Path) -> String {
    let s = p.to_str().unwrap();
    s[s.find("AWSLogs/").unwrap()..].to_string()
}

#[test]
fn an_archive_as_written_passes() {
    let dir = sample();
    let (code, report) = verify(dir.path());
    assert_eq!(code, Some(0), "{report}");
    assert!(report.contains("no problems"), "{report}");
    assert!(
        report.contains("digest valid                  288"),
        "{report}"
    );
    // Every log file the sample wrote, each found valid.
    let logs = files_under(dir.path())
        .iter()
        .filter(|p| p.to_str().unwrap().contains("/CloudTrail/"))
        .count();
    assert!(logs > 40, "{logs}");
    assert!(
        report.contains(&format!("log    valid                  {logs}\n")),
        "{logs} log files: {report}"
    );
    // The newest digest of each of the six chains is said to be what it is.
    assert!(
        report.contains("digest unverifiable offline   6"),
        "{report}"
    );
    assert!(
        report.contains("its signature is in S3 object metadata"),
        "{report}"
    );
    // An evidence file: one row per file.
    let out = run(
        &["verify", dir.path().to_str().unwrap(), "--format", "csv"],
        "",
    );
    let csv = text(&out.stdout);
    assert!(csv.starts_with("kind,file,state,digest,detail\n"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 288 + 6 + logs);
    // Without the keys nothing can be called valid.
    std::fs::remove_file(dir.path().join("public-keys.json")).unwrap();
    let (code, report) = verify(dir.path());
    assert_eq!(code, Some(1));
    assert!(report.contains("digest no public key"), "{report}");
}

#[test]
fn a_changed_byte_a_deleted_file_and_an_extra_file_are_found() {
    let dir = sample();
    let day = first_day(dir.path());
    let logs = files_in(&day);
    change_one_byte(&logs[0]);
    assert_problem(
        dir.path(),
        "log modified",
        logs[0].to_str().unwrap(),
        "the digest recorded",
    );
    // A log file deleted.
    std::fs::remove_file(&logs[1]).unwrap();
    assert_problem(
        dir.path(),
        "log missing",
        &tail(&logs[1]),
        "listed in the digest",
    );
    // A log file added.
    let extra = day.join(
        logs[2]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".json.gz", "X.json.gz"),
    );
    std::fs::copy(&logs[2], &extra).unwrap();
    assert_problem(
        dir.path(),
        "log not covered",
        extra.to_str().unwrap(),
        "in no digest",
    );
}

#[test]
fn a_log_file_is_hashed_over_all_its_gzip_members_and_nothing_after_them() {
    let dir = sample();
    let logs = files_in(&first_day(dir.path()));
    // The same content compressed as two gzip members (as `cat a.gz b.gz`
    // makes) is the same log file: the digest's hash is of the content.
    let content = read_gz(&logs[0]);
    let (a, b) = content.split_at(content.len() / 2);
    write_gz(&logs[0], a);
    let mut second = Vec::new();
    let mut gz = flate2::write::GzEncoder::new(&mut second, flate2::Compression::default());
    gz.write_all(b).unwrap();
    gz.finish().unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&logs[0])
        .unwrap()
        .write_all(&second)
        .unwrap();
    let (code, report) = verify(dir.path());
    assert_eq!(code, Some(0), "{report}");
    // Bytes appended after the gzip data are not ignored.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&logs[1])
        .unwrap()
        .write_all(b"appended")
        .unwrap();
    assert_problem(
        dir.path(),
        "log unreadable",
        logs[1].to_str().unwrap(),
        "8 bytes after the end of the gzip data",
    );
}

#[test]
fn a_deleted_or_changed_digest_is_found() {
    let dir = sample();
    let c = chain(dir.path());
    // Deleted: the next digest names it as its previous.
    std::fs::remove_file(&c[10]).unwrap();
    assert_problem(
        dir.path(),
        "digest missing",
        &tail(&c[10]),
        "named as previous by",
    );
    let dir = sample();
    let c = chain(dir.path());
    // Changed: a log file taken off its list (of a digest that lists some,
    // and is not the newest).
    let n = (0..c.len() - 1)
        .find(|&i| !digest(&c[i])["logFiles"].as_array().unwrap().is_empty())
        .unwrap();
    let mut d = digest(&c[n]);
    let taken = d["logFiles"][0]["s3Object"].as_str().unwrap().to_string();
    d["logFiles"].as_array_mut().unwrap().remove(0);
    put_digest(&c[n], &d);
    assert_problem(
        dir.path(),
        "digest modified",
        c[n].to_str().unwrap(),
        "the next digest recorded",
    );
    // The log file it no longer lists is in no digest now.
    assert_problem(dir.path(), "log not covered", &taken, "in no digest");
}

#[test]
fn a_forged_signature_or_one_by_another_key_is_found() {
    let dir = sample();
    let c = chain(dir.path());
    // The signature of digest 10, kept in digest 11, forged (one hex digit).
    let mut next = digest(&c[11]);
    let sig = next["previousDigestSignature"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = format!(
        "{}{}",
        if sig.starts_with('0') { "1" } else { "0" },
        &sig[1..]
    );
    next["previousDigestSignature"] = Value::from(forged);
    put_digest(&c[11], &next);
    assert_problem(
        dir.path(),
        "digest bad signature",
        c[10].to_str().unwrap(),
        "does not verify",
    );

    // Digest 10 rewritten and signed with another key, its fingerprint
    // naming that key, and digest 11 updated to match: the key is not among
    // the trail's public keys, so it is not valid.
    let dir = sample();
    let c = chain(dir.path());
    let other = rsa::RsaPrivateKey::from_pkcs8_pem(
        &std::fs::read_to_string(repo().join("tests/data/verify/other-key.pem")).unwrap(),
    )
    .unwrap();
    let der = other.to_public_key().to_pkcs1_der().unwrap();
    let fingerprint = hex(&<md5::Md5 as md5::Digest>::digest(der.as_bytes()));
    let mut d = digest(&c[10]);
    d["digestPublicKeyFingerprint"] = Value::from(fingerprint.clone());
    d["logFiles"] = Value::Array(vec![]);
    let body = serde_json::to_vec(&d).unwrap();
    write_gz(&c[10], &body);
    let signature = SigningKey::<sha2::Sha256>::new(other).sign(
        data_to_sign(
            d["digestEndTime"].as_str().unwrap(),
            d["digestS3Bucket"].as_str().unwrap(),
            d["digestS3Object"].as_str().unwrap(),
            &sha256_hex(&body),
            d["previousDigestSignature"].as_str(),
        )
        .as_bytes(),
    );
    let mut next = digest(&c[11]);
    next["previousDigestHashValue"] = Value::from(sha256_hex(&body));
    next["previousDigestSignature"] = Value::from(hex(&signature.to_bytes()));
    put_digest(&c[11], &next);
    assert_problem(
        dir.path(),
        "digest no public key",
        c[10].to_str().unwrap(),
        &format!("no key with fingerprint {fingerprint}"),
    );
}

#[test]
fn a_chain_that_skips_a_digest_is_found() {
    let dir = sample();
    let c = chain(dir.path());
    // Digest 11 made to point back to digest 9, as if 10 never was.
    let nine = digest(&c[9]);
    let ten = digest(&c[10]);
    let mut next = digest(&c[11]);
    next["previousDigestS3Object"] = nine["digestS3Object"].clone();
    next["previousDigestHashValue"] = Value::from(sha256_hex(&read_gz(&c[9])));
    next["previousDigestSignature"] = ten["previousDigestSignature"].clone();
    put_digest(&c[11], &next);
    assert_problem(
        dir.path(),
        "chain gap",
        c[11].to_str().unwrap(),
        "skips 1 digest(s) between",
    );
}

#[test]
fn the_sample_archive_shows_its_stopped_trail() {
    // The default sample's planted StopLogging: no digest while stopped.
    let dir = tempfile::tempdir().unwrap();
    assert!(bin()
        .args([
            "sample",
            dir.path().to_str().unwrap(),
            "--events-per-day",
            "5"
        ])
        .status()
        .unwrap()
        .success());
    assert_problem(
        dir.path(),
        "chain gap",
        "111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20251028T070000Z",
        "no digest between 2025-10-27T23:00:00Z and 2025-10-28T06:00:00Z",
    );
    let (_, report) = verify(dir.path());
    assert_eq!(
        report
            .lines()
            .filter(|l| l.starts_with("chain gap"))
            .count(),
        1,
        "{report}"
    );
    assert!(report.contains("\n1 problem:\n"), "{report}");
}

#[test]
fn the_integrity_table_joins_every_event_to_its_file_state() {
    let dir = sample();
    let src = dir.path().to_str().unwrap();
    let sql = "SELECT i.state, i.digest_state, count(*) AS events \
               FROM cloudtrail c LEFT JOIN cloudtrail_integrity i ON c.log_object = i.log_object \
               GROUP BY 1, 2 ORDER BY 1, 2";
    let all = crate::util::csv_answer(src, "SELECT count(*) AS n FROM cloudtrail");
    let n: usize = all.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(
        crate::util::csv_answer(src, sql),
        format!("state,digest_state,events\nvalid,valid,{n}\n")
    );
    // One file changed: its events, and only they, are shown as from a
    // modified file.
    let (_, records) = change_a_file_of_the_other_account(dir.path());
    assert_eq!(
        crate::util::csv_answer(src, sql),
        format!(
            "state,digest_state,events\nmodified,valid,{records}\nvalid,valid,{}\n",
            n - records
        )
    );
    // Named sources get their own: NAME_integrity.
    let out = run(
        &[
            "--source",
            &format!("prod={src}"),
            "--format",
            "csv",
            "-e",
            "SELECT count(*) AS n FROM prod_integrity WHERE state = 'modified'",
        ],
        "",
    );
    assert_eq!(text(&out.stdout), "n\n1\n", "{}", text(&out.stderr));
}

/// The sample archive in a bucket of a test S3 server, each digest carrying
/// its signature in its metadata as CloudTrail writes it (signed here with
/// the sample's key), and the folder the server serves.
struct InS3 {
    addr: std::net::SocketAddr,
    server: crate::s3::Counter,
    served: tempfile::TempDir,
    keys: PathBuf,
    _sample: tempfile::TempDir,
}

impl InS3 {
    const BUCKET: &'static str = "trailsql-sample-trail";

    fn new() -> InS3 {
        let sample = sample();
        let served = tempfile::tempdir().unwrap();
        let bucket = served.path().join(Self::BUCKET);
        crate::s3::copy_tree(sample.path(), &bucket);
        std::fs::remove_file(bucket.join("public-keys.json")).unwrap();
        let (addr, server) = crate::s3::start_counting_server(served.path());
        let s3 = InS3 {
            addr,
            server,
            keys: sample.path().join("public-keys.json"),
            served,
            _sample: sample,
        };
        for file in files_under(&bucket) {
            if file.to_str().unwrap().contains("/CloudTrail-Digest/") {
                let signature = sample_signature(&file);
                s3.put(
                    &tail(&file),
                    &std::fs::read(&file).unwrap(),
                    Some(&signature),
                );
            }
        }
        s3
    }

    /// Store an object, with `signature` (and its algorithm) as its
    /// metadata.
    fn put(&self, key: &str, bytes: &[u8], signature: Option<&str>) {
        std::fs::write(self.path(key), bytes).unwrap();
        let path = format!("/{}/{key}", Self::BUCKET);
        let mut server = self.server.lock().unwrap();
        match signature {
            Some(signature) => server.metadata.insert(
                path,
                vec![
                    ("signature".into(), signature.into()),
                    ("signature-algorithm".into(), "SHA256withRSA".into()),
                ],
            ),
            None => server.metadata.remove(&path),
        };
    }

    fn path(&self, key: &str) -> PathBuf {
        self.served.path().join(Self::BUCKET).join(key)
    }

    /// `verify` on the bucket: exit code, report and stderr.
    fn verify(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        let mut args = vec![
            "verify",
            "s3://trailsql-sample-trail",
            "--public-keys",
            self.keys.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = crate::s3::run_s3(self.addr, crate::s3::SECRET, &args);
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    }
}

/// A digest file's signature by the sample's key, over its bytes as stored.
fn sample_signature(file: &Path) -> String {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(
        &std::fs::read_to_string(repo().join("src/sample/key.pem")).unwrap(),
    )
    .unwrap();
    let body = read_gz(file);
    let d: Value = serde_json::from_slice(&body).unwrap();
    let signature = SigningKey::<sha2::Sha256>::new(key).sign(
        data_to_sign(
            d["digestEndTime"].as_str().unwrap(),
            d["digestS3Bucket"].as_str().unwrap(),
            d["digestS3Object"].as_str().unwrap(),
            &sha256_hex(&body),
            d["previousDigestSignature"].as_str(),
        )
        .as_bytes(),
    );
    hex(&signature.to_bytes())
}

fn problem_line<'a>(
    report: &'a str,
    kind_state: &str,
    file: &str,
    detail: &str,
) -> Option<&'a str> {
    report
        .lines()
        .find(|l| l.starts_with(kind_state) && l.contains(file) && l.contains(detail))
}

#[test]
fn in_s3_every_digest_is_checked_by_the_signature_in_its_metadata() {
    let s3 = InS3::new();
    let (code, report, stderr) = s3.verify(&[]);
    assert_eq!(code, Some(0), "{report}{stderr}");
    // All 294 digests, the newest of each chain too (a local copy leaves 6
    // unverifiable: see an_archive_as_written_passes).
    assert!(
        report.contains("digest valid                  294"),
        "{report}"
    );
    assert!(!report.contains("unverifiable"), "{report}");
    assert!(report.contains("no problems"), "{report}");
    // The evidence file names the objects.
    let (_, csv, _) = s3.verify(&["--format", "csv"]);
    assert!(
        csv.lines().any(|l| l.starts_with(
            "log,s3://trailsql-sample-trail/AWSLogs/111122223333/CloudTrail/us-east-1/2025/10/01/"
        ) && l.contains(",valid,")),
        "{csv}"
    );
    // The integrity table of an S3 source: every event from a valid file
    // listed by a valid digest.
    let sql = "SELECT i.state, i.digest_state, count(*) AS events \
               FROM cloudtrail c LEFT JOIN cloudtrail_integrity i ON c.log_object = i.log_object \
               GROUP BY 1, 2 ORDER BY 1, 2";
    let keys = s3.keys.to_str().unwrap();
    let out = crate::s3::run_s3(
        s3.addr,
        crate::s3::SECRET,
        &[
            "--source",
            "s3://trailsql-sample-trail",
            "--public-keys",
            keys,
            "--format",
            "csv",
            "-e",
            sql,
        ],
    );
    let local = crate::util::csv_answer(
        s3._sample.path().to_str().unwrap(),
        "SELECT count(*) AS n FROM cloudtrail",
    );
    let n = local.lines().nth(1).unwrap();
    assert_eq!(
        text(&out.stdout),
        format!("state,digest_state,events\nvalid,valid,{n}\n"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn in_s3_the_newest_digest_and_missing_metadata_are_caught() {
    let s3 = InS3::new();
    let c = chain(&s3.served.path().join(InS3::BUCKET));
    let newest = c.last().unwrap();
    // The newest digest's signature forged: only its metadata holds it, so
    // only an S3 check can see this.
    let good = sample_signature(newest);
    let forged = format!(
        "{}{}",
        if good.starts_with('0') { "1" } else { "0" },
        &good[1..]
    );
    s3.put(
        &tail(newest),
        &std::fs::read(newest).unwrap(),
        Some(&forged),
    );
    // Another digest stored again without its metadata.
    s3.put(&tail(&c[5]), &std::fs::read(&c[5]).unwrap(), None);
    // A log file changed, and another deleted, on the server.
    let day = s3.path("AWSLogs/444455556666/CloudTrail/eu-west-1/2025/10/02");
    let files = files_in(&day);
    change_one_byte(&files[0]);
    std::fs::remove_file(&files[1]).unwrap();
    // A digest deleted: the next one names it.
    std::fs::remove_file(&c[20]).unwrap();
    // A digest changed (its first listed log file taken off), its metadata
    // left as it was.
    let n = (30..c.len() - 1)
        .find(|&i| !digest(&c[i])["logFiles"].as_array().unwrap().is_empty())
        .unwrap();
    let mut changed = digest(&c[n]);
    changed["logFiles"].as_array_mut().unwrap().remove(0);
    put_digest(&c[n], &changed);
    // An extra log file, in no digest.
    let extra =
        day.join("444455556666_CloudTrail_eu-west-1_20251002T1200Z_extraextraextra1.json.gz");
    std::fs::copy(&files[2], &extra).unwrap();

    let (code, report, stderr) = s3.verify(&[]);
    assert_eq!(code, Some(1), "{report}{stderr}");
    let at = |p: &Path| format!("s3://{}/{}", InS3::BUCKET, tail(p));
    for (kind_state, file, detail) in [
        (
            "digest modified",
            at(&c[n]),
            "the next digest recorded".to_string(),
        ),
        ("log not covered", at(&extra), "in no digest".to_string()),
        (
            "digest bad signature",
            at(newest),
            "does not verify".to_string(),
        ),
        (
            "digest bad signature",
            at(&c[5]),
            "no signature in the object's metadata".to_string(),
        ),
        (
            "log modified",
            at(&files[0]),
            "the digest recorded".to_string(),
        ),
        (
            "log missing",
            tail(&files[1]),
            "not in the archive".to_string(),
        ),
        (
            "digest missing",
            tail(&c[20]),
            "named as previous by".to_string(),
        ),
    ] {
        assert!(
            problem_line(&report, kind_state, &file, &detail).is_some(),
            "wanted `{kind_state}` for {file} ({detail}) in:\n{report}"
        );
    }
    assert_eq!(
        report
            .lines()
            .filter(|l| l.starts_with("digest bad signature:"))
            .count(),
        2,
        "{report}"
    );
}

#[test]
fn in_s3_keys_must_be_given() {
    // Keys are never read from the bucket being checked.
    let s3 = InS3::new();
    let out = crate::s3::run_s3(
        s3.addr,
        crate::s3::SECRET,
        &["verify", "s3://trailsql-sample-trail"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no public keys given"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("digest no public key"));
}

#[test]
fn nothing_to_check_is_an_error_not_an_all_clear() {
    // A folder with log files but no digests (validation off), and one
    // with nothing at all.
    let src = crate::util::fixture_archive();
    let no_digests = tempfile::tempdir().unwrap();
    let logs = src.join("AWSLogs/111122223333/CloudTrail");
    let copy = no_digests.path().join("AWSLogs/111122223333/CloudTrail");
    std::fs::create_dir_all(&copy).unwrap();
    for f in crate::util::files_under(&logs) {
        let to = copy.join(f.strip_prefix(&logs).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, &to).unwrap();
    }
    let empty = tempfile::tempdir().unwrap();
    for dir in [no_digests.path(), empty.path()] {
        let out = bin().arg("verify").arg(dir).output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("no CloudTrail-Digest files under"), "{err}");
        assert!(!text(&out.stdout).contains("no problems"));
    }
    // Digests there, none in the window asked for.
    let archive = sample();
    let out = bin()
        .arg("verify")
        .arg(archive.path())
        .args(["--since", "2001-01-01", "--until", "2001-01-02"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("digest files under")
            && err.contains("ends between 2001-01-01 and 2001-01-02"),
        "{err}"
    );
}

/// Run `cmd` with its standard output a pipe already closed (a reader that
/// stopped before it printed anything); its exit code.
fn exit_with_stdout_closed(cmd: &mut std::process::Command) -> Option<i32> {
    let mut child = crate::util::spawn_piped(cmd);
    drop(child.stdout.take());
    crate::util::exit_code(child)
}

#[test]
fn a_closed_output_pipe_does_not_turn_findings_into_success() {
    let archive = sample();
    // One log file changed: verify finds it.
    let log = files_under(&archive.path().join("AWSLogs"))
        .into_iter()
        .find(|f| f.to_string_lossy().contains("/CloudTrail/"))
        .unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&log, bytes).unwrap();
    assert_eq!(
        exit_with_stdout_closed(bin().arg("verify").arg(archive.path())),
        Some(1)
    );
    // Saved queries with findings, --fail-on-findings.
    let source = archive.path().to_str().unwrap();
    assert_eq!(
        exit_with_stdout_closed(bin().args([
            "--source",
            source,
            "run",
            "--all",
            "--fail-on-findings"
        ])),
        Some(1)
    );
}

/// With public keys at hand (the sample's `public-keys.json`), a run with
/// `--evidence` and `--report` checks the log files it read against their
/// digests by the bytes it read: the pack gives each file's state, the
/// report each finding's, and one changed byte shows on that file and on
/// the findings from it alone.
#[test]
fn the_evidence_pack_and_the_report_give_each_file_read_its_integrity() {
    let dir = sample();
    let src = dir.path().to_str().unwrap();
    let (file, records) = change_a_file_of_the_other_account(dir.path());
    let q = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(q.path().join("mine")).unwrap();
    std::fs::write(
        q.path().join("mine/every-event.sql"),
        "-- title: Every event\n-- severity: info\n-- description: all of them\n\
         SELECT eventtime, actor, event_name, event_id FROM cloudtrail_events \
         WHERE eventtime >= $since AND eventtime < $until\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let pack = out.path().join("pack");
    let page = out.path().join("report.html");
    let every_event = |then: &[&str]| {
        let queries = q.path().to_str().unwrap();
        let mut args = vec!["--source", src, "--queries", queries, "run", "every-event"];
        args.extend_from_slice(then);
        run(&args, "")
    };
    let done = every_event(&[
        "--evidence",
        pack.to_str().unwrap(),
        "--report",
        page.to_str().unwrap(),
    ]);
    let said = text(&done.stderr);
    assert!(done.status.success(), "{said}");
    assert!(
        said.contains("checked against their digest files"),
        "{said}"
    );
    assert!(said.contains("1 modified"), "{said}");
    assert!(
        said.contains("warning: 1 file not shown to be as CloudTrail wrote it"),
        "{said}"
    );
    let manifest = crate::util::manifest_of(&pack);
    let objects = manifest["source_objects"].as_array().unwrap();
    let logs = files_under(&dir.path().join("AWSLogs"))
        .into_iter()
        .filter(|p| !p.to_str().unwrap().contains("CloudTrail-Digest"))
        .count();
    assert_eq!(objects.len(), logs);
    let mut states = std::collections::BTreeMap::new();
    for o in objects {
        let state = o["integrity"]["state"].as_str().unwrap().to_string();
        if o["location"] == file.to_str().unwrap() {
            assert_eq!(state, "modified", "{o}");
            assert_eq!(o["integrity"]["problem"], true);
            // As read: the changed bytes.
            assert_eq!(o["sha256"], sha256_hex(&std::fs::read(&file).unwrap()));
        } else {
            assert_eq!(o["integrity"]["problem"], false, "{o}");
        }
        *states.entry(state).or_insert(0) += 1;
    }
    assert_eq!(states["modified"], 1, "{states:?}");
    assert_eq!(
        manifest["digests_checked_with"][src],
        dir.path().join("public-keys.json").to_str().unwrap()
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<th>digests checked</th>"), "{html}");
    assert_eq!(
        html.matches("<td class=\"integrity problem\"").count(),
        records,
        "each finding from the changed file, and only they"
    );
    let all = crate::util::csv_answer(src, "SELECT count(*) AS n FROM cloudtrail");
    let n: usize = all.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(
        html.matches("<td class=\"integrity\" title=").count(),
        n - records
    );
    // Files read before the run's window (a detection that learns what is
    // usual reads back) are checked by their own digests too.
    std::fs::write(
        q.path().join("mine/all-time.sql"),
        "-- title: Every event of all time\n-- severity: info\n-- description: all\n\
         SELECT eventtime, actor, event_name, event_id FROM cloudtrail_events\n",
    )
    .unwrap();
    let earlier = out.path().join("earlier");
    let queries = q.path().to_str().unwrap();
    let done = run(
        &[
            "--source",
            src,
            "--queries",
            queries,
            "run",
            "all-time",
            "--since",
            "2025-10-02",
            "--evidence",
            earlier.to_str().unwrap(),
        ],
        "",
    );
    assert!(done.status.success(), "{}", text(&done.stderr));
    let manifest = crate::util::manifest_of(&earlier);
    let objects = manifest["source_objects"].as_array().unwrap();
    assert_eq!(objects.len(), logs);
    let states: std::collections::BTreeSet<&str> = objects
        .iter()
        .map(|o| o["integrity"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["modified", "valid"].into_iter().collect(),
        "{objects:?}"
    );
    // A report alone checks them too.
    let alone = out.path().join("alone.html");
    let done = every_event(&["--report", alone.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let html = std::fs::read_to_string(&alone).unwrap();
    assert_eq!(
        html.matches("<td class=\"integrity problem\"").count(),
        records
    );
}

/// `verify --report FILE.html`: the check as one page: facts, files by
/// state as bars, the problems, every file checked. A file the archive
/// should not have, named like markup, shows as text in a real browser.
#[test]
fn the_integrity_report_names_each_problem_and_runs_nothing_of_the_names() {
    let dir = sample();
    let file = files_in(&first_day(dir.path())).remove(0);
    change_one_byte(&file);
    let planted = first_day(dir.path()).join(
        "111122223333_CloudTrail_us-east-1_20251001T1005Z_<svg onload=\"document.title='pwned'\">.json.gz",
    );
    std::fs::copy(files_in(&first_day(dir.path())).remove(1), &planted).unwrap();
    let out = tempfile::tempdir().unwrap();
    let page = out.path().join("integrity.html");
    let done = run(
        &[
            "verify",
            dir.path().to_str().unwrap(),
            "--report",
            page.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(done.status.code(), Some(1), "{}", text(&done.stderr));
    let csv = run(
        &["--format", "csv", "verify", dir.path().to_str().unwrap()],
        "",
    );
    let checked = text(&csv.stdout).lines().count() - 1;
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<td>2 problems</td>"), "{html}");
    let problems = html.split("id=\"problems\"").nth(1).unwrap();
    let problems = &problems[..problems.find("</section>").unwrap()];
    assert_eq!(problems.matches("<li class=\"problem\">").count(), 2);
    assert!(problems.contains("<b>log modified</b>"), "{problems}");
    assert!(problems.contains(file.to_str().unwrap()), "{problems}");
    assert!(problems.contains("<b>log not covered</b>"), "{problems}");
    assert!(html.contains(&format!("<p class=\"count\">{checked} files</p>")));
    assert_eq!(html.matches("<tr class=\"problem\">").count(), 2);
    let Some(browser) = crate::report::chromium() else {
        return;
    };
    let dom = crate::report::rendered(&browser, &page);
    assert!(
        dom.contains("<title>trailsql integrity report</title>"),
        "{dom}"
    );
    // One SVG, the chart, with a bar per (kind, state): digest valid,
    // digest unverifiable offline, log valid, log modified, log not covered.
    assert_eq!(dom.matches("<svg").count(), 1, "{dom}");
    let chart = dom.split("id=\"states\"").nth(1).unwrap();
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(chart.matches("<rect").count(), 5, "{chart}");
    for bar in [
        "digest valid",
        "log valid",
        "log modified",
        "log not covered",
    ] {
        assert!(chart.contains(&format!("<title>{bar}</title>")), "{chart}");
    }
    assert!(dom.contains("&lt;svg onload="), "{dom}");
    let files = dom.split("id=\"files\"").nth(1).unwrap();
    assert_eq!(
        files
            .split("<tbody>")
            .nth(1)
            .unwrap()
            .matches("<tr")
            .count(),
        checked
    );
}
