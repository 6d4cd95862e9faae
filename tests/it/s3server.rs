//! An S3-protocol server for tests and benchmarks: s3s-fs serving a folder
//! (bucket = top-level folder, object = file) on 127.0.0.1 with signed
//! requests, wrapped to count what it is asked, to inject faults (throttling,
//! cut connections, a wrong region, latency) and to add object metadata.
//! The integration tests use it as a module; `benches/s3.rs` includes the
//! same file.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub const KEY: &str = "trailsql-test";
pub const SECRET: &str = "trailsql-test-secret";

/// The requests a server received: LISTs (with their prefix) and GETs of
/// objects.
#[derive(Default)]
pub struct Requests {
    pub lists: Vec<String>,
    pub gets: usize,
    /// User metadata the server adds to its answers for an object, by
    /// request path (`/bucket/key`), as `x-amz-meta-NAME` headers. s3s-fs
    /// keeps metadata in a file named after the bucket and key, which for a
    /// key as long as a digest's passes the 255-byte limit on file names.
    pub metadata: std::collections::HashMap<String, Vec<(String, String)>>,
    /// LIST answers by request path and query, with `cache_lists`.
    lists_seen: std::collections::HashMap<String, ListAnswer>,
}

/// A LIST answer kept whole: status, headers, body.
type ListAnswer = (u16, Vec<(String, String)>, bytes::Bytes);

pub type Counter = Arc<Mutex<Requests>>;

/// An S3 server on 127.0.0.1 serving `root`, running until the test ends.
pub fn start_server(root: &Path) -> SocketAddr {
    start_counting_server(root).0
}

/// The same, also counting the requests it serves.
pub fn start_counting_server(root: &Path) -> (SocketAddr, Counter) {
    start_faulty_server(root, Faults::default())
}

/// Faults the server injects into object GETs: every `slow_down`-th answers
/// 503 SlowDown (S3's throttling), every `drop`-th has its connection cut.
#[derive(Clone, Copy, Default)]
pub struct Faults {
    pub slow_down: usize,
    pub drop: usize,
    /// Milliseconds added to every answer (a distant region's latency).
    pub delay_ms: u64,
    /// The bucket's region: a request signed for another is refused as S3
    /// refuses it (400 AuthorizationHeaderMalformed, naming the region).
    pub region: Option<&'static str>,
    /// GETs of objects whose path holds this text are refused: 403
    /// AccessDenied (a bucket policy, a KMS key the caller may not use).
    pub deny: Option<&'static str>,
    /// GETs of objects whose path holds this text answer 404 NoSuchKey (an
    /// object deleted between the listing and the read).
    pub gone: Option<&'static str>,
    /// Answer a LIST asked before from memory. s3s-fs walks the whole
    /// served folder for every LIST page (about 0.35 s per 1,000 keys on
    /// the benchmark machine), which S3 does not; for the benchmark, whose
    /// folder does not change.
    pub cache_lists: bool,
    /// The bucket is public: requests without a signature may list and
    /// read it (as the public trail datasets people practise on).
    pub public: bool,
}

/// Lets anonymous requests through (a public bucket's policy).
struct Public;

#[async_trait::async_trait]
impl s3s::access::S3Access for Public {
    async fn check(&self, _cx: &mut s3s::access::S3AccessContext<'_>) -> s3s::S3Result<()> {
        Ok(())
    }
}

pub fn start_faulty_server(root: &Path, faults: Faults) -> (SocketAddr, Counter) {
    let counter: Counter = Arc::default();
    let seen = counter.clone();
    let fs = s3s_fs::FileSystem::new(root).unwrap();
    let service = {
        let mut b = s3s::service::S3ServiceBuilder::new(fs);
        b.set_auth(s3s::auth::SimpleAuth::from_single(KEY, SECRET));
        if faults.public {
            b.set_access(Public);
        }
        b.build()
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    // s3s-fs checks If-None-Match and then writes: two conditional PUTs of
    // one key at once could both pass the check. S3 makes the pair atomic;
    // so does this server, by taking conditional PUTs one at a time.
    let conditional = Arc::new(tokio::sync::Mutex::new(()));
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
                // Answers go out at once: with Nagle's algorithm on, a reply
                // written in two pieces waits for the client's delayed ACK
                // (~40 ms on Linux), which no real S3 endpoint adds.
                let _ = socket.set_nodelay(true);
                let (service, seen) = (service.clone(), seen.clone());
                let conditional = conditional.clone();
                let counting = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let one_at_a_time = (req.method() == hyper::Method::PUT
                            && req.headers().contains_key("if-none-match"))
                        .then(|| conditional.clone());
                        let query = req.uri().query().unwrap_or("").to_string();
                        let path = req.uri().path().to_string();
                        let list_key = (faults.cache_lists && query.contains("list-type"))
                            .then(|| format!("{path}?{query}"));
                        let kept = list_key
                            .as_ref()
                            .and_then(|k| seen.lock().unwrap().lists_seen.get(k).cloned());
                        let mut nth_get = 0;
                        let metadata;
                        {
                            let mut r = seen.lock().unwrap();
                            metadata = r.metadata.get(req.uri().path()).cloned();
                            if query.contains("list-type") {
                                let prefix = query
                                    .split('&')
                                    .find_map(|kv| kv.strip_prefix("prefix="))
                                    .unwrap_or("")
                                    .replace("%2F", "/");
                                r.lists.push(prefix);
                            } else if req.method() == hyper::Method::GET {
                                r.gets += 1;
                                nth_get = r.gets;
                            }
                        }
                        let hit = |every: usize| every > 0 && nth_get > 0 && nth_get % every == 0;
                        // Credential=KEY/DATE/REGION/s3/aws4_request
                        let signed_for = req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.split("Credential=").nth(1))
                            .and_then(|v| v.split('/').nth(2))
                            .map(str::to_string);
                        let wrong_region = faults
                            .region
                            .filter(|r| signed_for.as_deref().is_some_and(|s| s != *r));
                        let reply: std::pin::Pin<
                            Box<dyn std::future::Future<Output = Result<s3s::HttpResponse, s3s::HttpError>> + Send>,
                        > = if hit(faults.drop) {
                            Box::pin(async { Err(s3s::HttpError::new("connection cut by the test".into())) })
                        } else if let Some(region) = wrong_region {
                            let body = format!(
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>\
                                 <Code>AuthorizationHeaderMalformed</Code><Message>The authorization \
                                 header is malformed; the region '{}' is wrong; expecting '{region}'\
                                 </Message><Region>{region}</Region></Error>",
                                signed_for.unwrap_or_default()
                            );
                            let resp = hyper::Response::builder()
                                .status(400)
                                .header("content-type", "application/xml")
                                .header("x-amz-bucket-region", region)
                                .body(s3s::Body::from(body))
                                .unwrap();
                            Box::pin(async move { Ok(resp) })
                        } else if let Some((status, code)) = [
                            (faults.deny, 403, "AccessDenied"),
                            (faults.gone, 404, "NoSuchKey"),
                        ]
                        .into_iter()
                        .find(|(text, _, _)| {
                            nth_get > 0 && text.is_some_and(|t| path.contains(t))
                        })
                        .map(|(_, status, code)| (status, code))
                        {
                            let body = format!(
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>\
                                 <Message>{code}</Message></Error>"
                            );
                            let resp = hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/xml")
                                .body(s3s::Body::from(body))
                                .unwrap();
                            Box::pin(async move { Ok(resp) })
                        } else if hit(faults.slow_down) {
                            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>\
                                        <Message>Please reduce your request rate.</Message></Error>";
                            let resp = hyper::Response::builder()
                                .status(503)
                                .header("content-type", "application/xml")
                                .body(s3s::Body::from(body.to_string()))
                                .unwrap();
                            Box::pin(async move { Ok(resp) })
                        } else if let Some((status, headers, body)) = kept {
                            let mut resp = hyper::Response::builder().status(status);
                            for (name, value) in headers {
                                resp = resp.header(name, value);
                            }
                            let resp = resp.body(s3s::Body::from(body)).unwrap();
                            Box::pin(async move {
                                tokio::time::sleep(std::time::Duration::from_millis(faults.delay_ms)).await;
                                Ok(resp)
                            })
                        } else {
                            let service = service.clone();
                            let keep = list_key.map(|k| (k, seen.clone()));
                            Box::pin(async move {
                                tokio::time::sleep(std::time::Duration::from_millis(faults.delay_ms)).await;
                                let _turn = match &one_at_a_time {
                                    Some(lock) => Some(lock.lock().await),
                                    None => None,
                                };
                                let mut resp = hyper::service::Service::call(&service, req).await?;
                                if let Some((key, seen)) = keep {
                                    let body = resp
                                        .body_mut()
                                        .store_all_limited(64 << 20)
                                        .await
                                        .map_err(s3s::HttpError::new)?;
                                    let headers = resp
                                        .headers()
                                        .iter()
                                        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
                                        .collect();
                                    seen.lock().unwrap().lists_seen.insert(
                                        key,
                                        (resp.status().as_u16(), headers, body.clone()),
                                    );
                                    *resp.body_mut() = s3s::Body::from(body);
                                }
                                for (name, value) in metadata.into_iter().flatten() {
                                    resp.headers_mut().insert(
                                        hyper::header::HeaderName::try_from(format!("x-amz-meta-{name}"))
                                            .unwrap(),
                                        hyper::header::HeaderValue::try_from(value).unwrap(),
                                    );
                                }
                                Ok(resp)
                            })
                        };
                        reply
                    },
                );
                let conn = http
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), counting)
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
    });
    (addr, counter)
}
