//! S3 sources against a real S3-protocol server started in the test process
//! (s3s-fs serving a temporary folder: bucket = top-level folder, object =
//! file), with signed requests. Every run sets credentials, a region and the
//! endpoint, so nothing leaves 127.0.0.1.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use crate::util::{bin, csv_answer, fixture_archive, text};

const KEY: &str = "trailsql-test";
const SECRET: &str = "trailsql-test-secret";

/// An S3 server on 127.0.0.1 serving `root`, running until the test ends.
fn start_server(root: &Path) -> SocketAddr {
    let fs = s3s_fs::FileSystem::new(root).unwrap();
    let service = {
        let mut b = s3s::service::S3ServiceBuilder::new(fs);
        b.set_auth(s3s::auth::SimpleAuth::from_single(KEY, SECRET));
        b.build()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let http =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let conn = http
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
    });
    addr
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Run trailsql against the server at `addr` with `secret`.
fn run_s3(addr: SocketAddr, secret: &str, args: &[&str]) -> Output {
    let endpoint = format!("http://{addr}");
    bin()
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .args(["--endpoint-url", &endpoint, "--region", "us-east-1"])
        .args(args)
        .output()
        .unwrap()
}

const QUESTION: &str = "SELECT eventtime, eventname, recipientaccountid, awsregion, \
    useridentity.arn AS arn, log_object LIKE '%AWSLogs/%' AS has_key FROM cloudtrail \
    ORDER BY eventtime, eventname";

#[test]
fn an_archive_in_s3_gives_the_same_answers_as_its_local_copy() {
    let root = tempfile::tempdir().unwrap();
    // Both layouts: the fixture archive holds a standard and an org trail.
    copy_tree(
        &fixture_archive(),
        &root.path().join("trail-bucket/prefix/more"),
    );
    let addr = start_server(root.path());
    let local = csv_answer(fixture_archive().to_str().unwrap(), QUESTION);
    assert!(local.lines().count() > 3, "{local}");
    for source in [
        "s3://trail-bucket/prefix/more",
        "s3://trail-bucket/prefix/more/AWSLogs/",
        "s3://trail-bucket",
    ] {
        let out = run_s3(
            addr,
            SECRET,
            &["--source", source, "--format", "csv", "-e", QUESTION],
        );
        assert!(out.status.success(), "{source}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), local, "{source}");
    }
    // One account's folder only.
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket/prefix/more/AWSLogs/111122223333/",
            "--format",
            "csv",
            "-e",
            "SELECT DISTINCT recipientaccountid FROM cloudtrail",
        ],
    );
    assert_eq!(
        text(&out.stdout),
        "recipientaccountid\n111122223333\n",
        "{}",
        text(&out.stderr)
    );
    // Where the rows came from.
    let out = run_s3(
        addr,
        SECRET,
        &[
            "--source",
            "s3://trail-bucket/prefix/more",
            "--format",
            "csv",
            "-e",
            "SELECT DISTINCT log_object FROM cloudtrail WHERE eventname = 'DeleteTable'",
        ],
    );
    let t = text(&out.stdout);
    assert!(t.contains("s3://trail-bucket/prefix/more/AWSLogs/"), "{t}");
}

#[test]
fn errors_name_the_bucket_and_say_what_to_check() {
    let root = tempfile::tempdir().unwrap();
    copy_tree(&fixture_archive(), &root.path().join("trail-bucket"));
    let addr = start_server(root.path());
    let sql = "SELECT count(*) FROM cloudtrail";
    // A bucket that does not exist.
    let out = run_s3(
        addr,
        SECRET,
        &["--source", "s3://no-such-bucket/x", "-e", sql],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s3://no-such-bucket/") && err.contains("no such bucket"),
        "{err}"
    );
    // Credentials the server refuses; the secret never shows.
    let out = run_s3(
        addr,
        "wrong-secret",
        &["--source", "s3://trail-bucket", "-e", sql],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("s3://trail-bucket/") && err.contains("access denied"),
        "{err}"
    );
    assert!(
        !err.contains("wrong-secret") && !err.contains(SECRET),
        "{err}"
    );
}
