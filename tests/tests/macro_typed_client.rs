//! The typed client `#[service]` generates, against a real nats-server, for a service that
//! uses every kind of argument and reply: each body kind reaches the handler as sent, each
//! reply type decodes into what the endpoint returned (error replies as `CallError::Service`),
//! wildcard endpoints take their tokens (invalid ones are refused before anything is sent),
//! per-call timeouts and headers apply to the copy that set them only, and tower layers on the
//! calling side see every call and keep service errors as they are.

mod micro_support;

use std::convert::Infallible;
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use micro_support::{connect, within};
use nats_core::{Client, HeaderMap, Message, RequestErrorKind, Subscriber};
use nats_micro::client::ClientCall;
use nats_micro::extract::{Headers, Subject};
use nats_micro::Json as J;
use nats_micro::{CallError, Json, NoReply, Reply, Request, Service, ServiceError};
use nats_tests::NatsServer;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::limit::ConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;
use tower::Layer;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Point {
    x: i64,
    y: i64,
}

/// A gauge call: its id, and how many calls must be in flight together before it answers
/// (waiting at most [`RENDEZVOUS`]), so that overlapping calls really overlap.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Hold {
    id: u32,
    until: usize,
}

/// How long a gauge call waits for the others it expects beside it.
const RENDEZVOUS: Duration = Duration::from_secs(2);

/// The error of `checked`: its error reply is `NEGATIVE` with the number in the text.
#[derive(Debug)]
enum MyError {
    Negative(i64),
}

impl From<MyError> for ServiceError {
    fn from(error: MyError) -> Self {
        match error {
            MyError::Negative(n) => ServiceError::new("NEGATIVE", format!("{n} is negative")),
        }
    }
}

type Answer<T> = Result<Json<T>, MyError>;

/// Calls in flight at the `gauge` handler now, and the most seen at once.
#[derive(Debug, Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

/// Bytes that a text protocol or a UTF-8 conversion would mangle.
const BINARY: &[u8] = b"\x00\xff\r\nPUB x 1\r\n\xc3";

/// The service under test; what its handlers observe goes to the test through `fired` and
/// `gauge`.
struct Probe {
    fired: mpsc::UnboundedSender<Bytes>,
    gauge: Arc<Gauge>,
}

#[nats_micro::service(name = "probe", version = "1.0.0")]
impl Probe {
    // --- Bodies: each handler answers with what it received.
    #[endpoint("probe.json")]
    async fn json(&self, Json(point): Json<Point>) -> String {
        format!("{point:?}")
    }

    #[endpoint("probe.aliased")]
    async fn aliased(&self, J(point): J<Point>) -> String {
        format!("{point:?}")
    }

    #[endpoint("probe.maybe")]
    async fn maybe(&self, point: Option<Json<Point>>) -> String {
        format!("{:?}", point.map(|Json(point)| point))
    }

    #[endpoint("probe.raw")]
    async fn raw(&self, request: Request) -> Vec<u8> {
        request.data().to_vec()
    }

    #[endpoint("probe.bytes")]
    async fn bytes(&self, body: Bytes) -> Bytes {
        body
    }

    #[endpoint("probe.vec")]
    async fn vec(&self, body: Vec<u8>) -> Vec<u8> {
        body
    }

    #[endpoint("probe.text")]
    async fn text(&self, body: String) -> String {
        body
    }

    /// Every header the request carried, sorted.
    #[endpoint("probe.headers")]
    async fn echo_headers(&self, Headers(headers): Headers) -> Json<Vec<(String, String)>> {
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        all.sort();
        Json(all)
    }

    /// Two arguments that both read the body: fine for the handler, not for the client.
    #[endpoint("probe.both")]
    async fn both(&self, _raw: Bytes, J(point): J<Point>) -> String {
        format!("{point:?}")
    }

    // --- Replies.
    #[endpoint("probe.hello")]
    async fn hello(&self) -> &'static str {
        "hello"
    }

    #[endpoint("probe.whole")]
    async fn whole(&self, J(point): J<Point>) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert("X-Reply", "whole");
        let body = serde_json::to_vec(&point).expect("a point serializes");
        Reply::new(body).with_headers(headers)
    }

    #[endpoint("probe.pair")]
    async fn pair(&self) -> (HeaderMap, Json<Point>) {
        let mut headers = HeaderMap::new();
        headers.insert("X-Pair", "pair");
        (headers, Json(Point { x: 3, y: 4 }))
    }

    #[endpoint("probe.checked")]
    async fn checked(&self, J(n): J<i64>) -> Answer<i64> {
        if n < 0 {
            Err(MyError::Negative(n))
        } else {
            Ok(Json(n * 2))
        }
    }

    #[endpoint("probe.fire")]
    async fn fire(&self, body: Bytes) -> NoReply {
        // The test may have stopped listening; the handler ran all the same.
        let _ = self.fired.send(body);
        NoReply
    }

    #[endpoint("probe.refuse")]
    async fn refuse(&self) -> ServiceError {
        ServiceError::new(503, "closed")
    }

    // --- Wildcards.
    #[endpoint("users.*.get")]
    async fn get_user(&self, Subject(subject): Subject) -> String {
        subject.to_string()
    }

    #[endpoint("files.*.*.>")]
    async fn file(&self, Subject(subject): Subject, body: String) -> String {
        format!("{subject} {body}")
    }

    // --- Timing and concurrency.
    #[endpoint("probe.slow")]
    async fn slow(&self, J(millis): J<u64>) -> String {
        tokio::time::sleep(Duration::from_millis(millis)).await;
        format!("slept {millis}")
    }

    #[endpoint("probe.gauge")]
    async fn gauge(&self, Json(hold): Json<Hold>) -> Json<u32> {
        let now = self.gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.gauge.max.fetch_max(now, Ordering::SeqCst);
        let deadline = Instant::now() + RENDEZVOUS;
        while self.gauge.now.load(Ordering::SeqCst) < hold.until && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.gauge.now.fetch_sub(1, Ordering::SeqCst);
        Json(hold.id)
    }
}

/// A running probe service, what its handlers report, and a client connection beside it.
///
/// Fields drop in order: the server, last, outlives the service and every connection.
struct Setup {
    service: Service,
    client: Client,
    /// The connections of the spies, kept open as long as the setup.
    spies: Mutex<Vec<Client>>,
    fired: mpsc::UnboundedReceiver<Bytes>,
    gauge: Arc<Gauge>,
    server: NatsServer,
}

async fn setup() -> Setup {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let (sender, fired) = mpsc::unbounded_channel();
    let gauge = Arc::new(Gauge::default());
    let probe = Probe {
        fired: sender,
        gauge: Arc::clone(&gauge),
    };
    let service = within("start", probe.serve(&client)).await.expect("start");
    Setup {
        service,
        client,
        spies: Mutex::default(),
        fired,
        gauge,
        server,
    }
}

impl Setup {
    /// A subscriber on `subject` on a connection of its own, registered with the server.
    async fn spy(&self, subject: &str) -> Subscriber {
        let spy = connect(&self.server.url()).await;
        let subscriber = within("spy subscribe", spy.subscribe(subject))
            .await
            .expect("spy subscribe");
        within("spy flush", spy.flush()).await.expect("spy flush");
        self.spies.lock().expect("spies lock").push(spy);
        subscriber
    }

    async fn stop(self) {
        within("stop", self.service.stop()).await;
    }
}

/// The next message of `subscriber`, within the bounded wait.
async fn next(what: &str, subscriber: &mut Subscriber) -> Message {
    within(what, subscriber.next())
        .await
        .unwrap_or_else(|| panic!("{what}: the subscription ended"))
}

/// The service error `result` must be.
fn service_error<T: Debug>(what: &str, result: Result<T, CallError>) -> ServiceError {
    match result {
        Err(CallError::Service(error)) => error,
        other => panic!("{what}: expected a service error, got {other:?}"),
    }
}

/// The argument `result` must name as invalid, with the reason.
fn invalid_argument<T: Debug>(what: &str, result: Result<T, CallError>) -> (String, String) {
    match result {
        Err(CallError::InvalidArgument { argument, reason }) => (argument, reason),
        other => panic!("{what}: expected an invalid argument, got {other:?}"),
    }
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(*name, *value);
    }
    headers
}

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// What a [`Record`] layer saw of one call: its endpoint, subject and `expects_reply`.
type Seen = (&'static str, String, bool);

/// Records the endpoint, subject and `expects_reply` of every call going through it.
#[derive(Clone, Default)]
struct RecordLayer {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl RecordLayer {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("record lock").clone()
    }
}

#[derive(Clone)]
struct Record<S> {
    inner: S,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record {
            inner,
            seen: Arc::clone(&self.seen),
        }
    }
}

impl<S: tower::Service<ClientCall>> tower::Service<ClientCall> for Record<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, call: ClientCall) -> S::Future {
        self.seen.lock().expect("record lock").push((
            call.endpoint,
            call.subject.clone(),
            call.expects_reply,
        ));
        self.inner.call(call)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_kind_reaches_the_handler_as_sent() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);
    let point = Point { x: 1, y: -2 };

    let seen: String = within("json", probe.json(&point)).await.expect("json");
    assert_eq!(seen, "Point { x: 1, y: -2 }");
    let seen: String = within("aliased", probe.aliased(&point))
        .await
        .expect("aliased");
    assert_eq!(
        seen, "Point { x: 1, y: -2 }",
        "`J` is `Json` under an alias"
    );

    // `Option<Json<T>>`: `Some` sends the JSON, `None` an empty body.
    let mut maybe_spy = setup.spy("probe.maybe").await;
    let seen: String = within("maybe some", probe.maybe(Some(&point)))
        .await
        .expect("maybe some");
    assert_eq!(seen, "Some(Point { x: 1, y: -2 })");
    let sent = next("maybe some on the wire", &mut maybe_spy).await;
    assert_eq!(sent.payload, Bytes::from_static(br#"{"x":1,"y":-2}"#));
    let seen: String = within("maybe &T", probe.maybe(&point))
        .await
        .expect("maybe &T");
    assert_eq!(seen, "Some(Point { x: 1, y: -2 })", "`&T` is `Some(&T)`");
    let _ = next("maybe &T on the wire", &mut maybe_spy).await;
    let seen: String = within("maybe none", probe.maybe(None))
        .await
        .expect("maybe none");
    assert_eq!(seen, "None");
    let sent = next("maybe none on the wire", &mut maybe_spy).await;
    assert!(sent.payload.is_empty(), "None sent {:?}", sent.payload);
    assert!(
        sent.headers.is_none(),
        "None sent headers {:?}",
        sent.headers
    );

    // Raw bodies, byte for byte.
    let echoed: Vec<u8> = within("raw", probe.raw(Bytes::from_static(BINARY)))
        .await
        .expect("raw");
    assert_eq!(echoed, BINARY, "`Request` takes the body as bytes");
    let echoed: Bytes = within("bytes", probe.bytes(BINARY.to_vec()))
        .await
        .expect("bytes");
    assert_eq!(echoed, BINARY);
    let echoed: Vec<u8> = within("vec", probe.vec(BINARY.to_vec()))
        .await
        .expect("vec");
    assert_eq!(echoed, BINARY);
    let text = "héllo ✓\r\n\ttabs and \"quotes\"";
    let echoed: String = within("text", probe.text(text)).await.expect("text");
    assert_eq!(echoed, text);
    let echoed: String = within("empty text", probe.text(String::new()))
        .await
        .expect("empty text");
    assert_eq!(echoed, "");

    // A `Headers` argument arrives as the headers, multiple values and all.
    let seen: Vec<(String, String)> = within(
        "headers",
        probe.echo_headers(headers(&[("X-One", "1"), ("X-Many", "a"), ("X-Many", "b")])),
    )
    .await
    .expect("headers");
    assert_eq!(
        seen,
        pairs(&[("X-Many", "a"), ("X-Many", "b"), ("X-One", "1")])
    );
    let seen = within("no headers", probe.echo_headers(HeaderMap::new()))
        .await
        .expect("no headers");
    assert_eq!(seen, pairs(&[]));

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_arguments_win_over_per_call_headers_by_name() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);
    let tagged = probe
        .with_header("X-Base", "base")
        .with_header("X-Shared", "option");

    // The argument replaces the option's value for the name both set; the others stay.
    let seen = within(
        "merged",
        tagged.echo_headers(headers(&[("X-Shared", "argument"), ("X-Arg", "arg")])),
    )
    .await
    .expect("merged");
    assert_eq!(
        seen,
        pairs(&[
            ("X-Arg", "arg"),
            ("X-Base", "base"),
            ("X-Shared", "argument")
        ])
    );

    // Every value the option gave for the name is replaced, not only the first.
    let multi = probe.with_headers(headers(&[("X-Shared", "o1"), ("X-Shared", "o2")]));
    let seen = within(
        "multi",
        multi.echo_headers(headers(&[("X-Shared", "argument")])),
    )
    .await
    .expect("multi");
    assert_eq!(seen, pairs(&[("X-Shared", "argument")]));

    // An empty argument keeps the options' headers as they are.
    let seen = within("options only", tagged.echo_headers(HeaderMap::new()))
        .await
        .expect("options only");
    assert_eq!(seen, pairs(&[("X-Base", "base"), ("X-Shared", "option")]));

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reply_type_decodes() {
    let mut setup = setup().await;
    let probe = ProbeClient::new(&setup.client);
    let point = Point { x: 5, y: 6 };

    let hello: String = within("hello", probe.hello()).await.expect("hello");
    assert_eq!(hello, "hello");

    let whole: Message = within("whole", probe.whole(&point)).await.expect("whole");
    let reply_point: Point = serde_json::from_slice(&whole.payload).expect("a point");
    assert_eq!(reply_point, point);
    let reply_headers = whole.headers.expect("the handler's headers");
    assert_eq!(reply_headers.get("X-Reply"), Some("whole"));

    let (pair_headers, pair_point): (HeaderMap, Point) =
        within("pair", probe.pair()).await.expect("pair");
    assert_eq!(pair_headers.get("X-Pair"), Some("pair"));
    assert_eq!(pair_point, Point { x: 3, y: 4 });

    // The `Answer<T>` alias: `T` on success, `MyError`'s error reply otherwise.
    let doubled: i64 = within("checked", probe.checked(&21))
        .await
        .expect("checked");
    assert_eq!(doubled, 42);
    let error = service_error("checked", within("checked", probe.checked(&-7)).await);
    assert_eq!(error, ServiceError::new("NEGATIVE", "-7 is negative"));

    let refused: Result<Infallible, CallError> = within("refuse", probe.refuse()).await;
    assert_eq!(
        service_error("refuse", refused),
        ServiceError::new(503, "closed")
    );

    // `NoReply`: published (no reply subject), so the call is done at once, and the handler
    // runs. A request would wait for the client's 10 s request timeout instead.
    let mut fire_spy = setup.spy("probe.fire").await;
    let fired = tokio::time::timeout(Duration::from_secs(5), probe.fire(&b"ping"[..]))
        .await
        .expect("a NoReply call does not wait for a reply");
    let (): () = fired.expect("fire");
    let sent = next("fire on the wire", &mut fire_spy).await;
    assert_eq!(sent.reply, None, "a NoReply endpoint is published to");
    assert_eq!(sent.payload, "ping");
    let ran = within("the fire handler", setup.fired.recv())
        .await
        .expect("the service holds the sender");
    assert_eq!(ran, "ping");

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_endpoints_take_their_tokens() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);

    let subject: String = within("get user", probe.get_user("42"))
        .await
        .expect("get user");
    assert_eq!(subject, "users.42.get");

    // Two `*` and a `>` tail of several tokens, then the body.
    let seen: String = within("file", probe.file("eu", "web", "logs.today", "body"))
        .await
        .expect("file");
    assert_eq!(seen, "files.eu.web.logs.today body");
    let seen: String = within("one-token tail", probe.file("a", "b", "c", ""))
        .await
        .expect("one-token tail");
    assert_eq!(seen, "files.a.b.c ");

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_tokens_are_refused_before_anything_is_sent() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);
    let mut users = setup.spy("users.>").await;
    let mut files = setup.spy("files.>").await;

    for bad in ["a.b", "", "*", ">", "x y", "tab\t"] {
        let (argument, reason) = invalid_argument(bad, within(bad, probe.get_user(bad)).await);
        assert_eq!(argument, "token", "{bad:?}: {reason}");
    }
    let cases = [
        (("a.b", "ok", "tail"), "token_1"),
        (("ok", "", "tail"), "token_2"),
        (("ok", "x y", "tail"), "token_2"),
        (("ok", "ok", ""), "tail"),
        (("ok", "ok", "a..b"), "tail"),
        (("ok", "ok", "a.*"), "tail"),
        (("ok", "ok", "logs.>"), "tail"),
        (("ok", "ok", "a b"), "tail"),
    ];
    for ((one, two, tail), expected) in cases {
        let what = format!("file({one:?}, {two:?}, {tail:?})");
        let (argument, reason) = invalid_argument(
            &what,
            within(&what, probe.file(one, two, tail, "body")).await,
        );
        assert_eq!(argument, expected, "{what}: {reason}");
    }

    // Nothing went out: the first message either spy sees is the valid call sent after all
    // the refused ones on the same connection.
    let subject = within("valid user", probe.get_user("7"))
        .await
        .expect("valid user");
    assert_eq!(subject, "users.7.get");
    let first = next("users spy", &mut users).await;
    assert_eq!(first.subject, "users.7.get", "a refused call was sent");
    let seen = within("valid file", probe.file("a", "b", "c", "d"))
        .await
        .expect("valid file");
    assert_eq!(seen, "files.a.b.c d");
    let first = next("files spy", &mut files).await;
    assert_eq!(first.subject, "files.a.b.c", "a refused call was sent");

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_body_arguments_are_refused_before_anything_is_sent() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);
    let mut spy = setup.spy("probe.>").await;

    let point = Point { x: 1, y: 1 };
    let (argument, reason) = invalid_argument(
        "both",
        within("both", probe.both(&b"raw"[..], &point)).await,
    );
    // Named after the part both supply, not after a parameter (`raw`, `point`).
    assert_eq!(argument, "body");
    assert!(reason.contains("\"both\""), "names the endpoint: {reason}");

    let hello = within("hello", probe.hello()).await.expect("hello");
    assert_eq!(hello, "hello");
    let first = next("spy", &mut spy).await;
    assert_eq!(first.subject, "probe.hello", "the refused call was sent");

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_timeout_applies_to_its_copy_only() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);
    let hasty = probe.with_timeout(Duration::from_millis(200));

    match within("hasty", hasty.slow(&2000)).await {
        Err(error @ CallError::Request(_)) => {
            assert!(error.is_timeout(), "{error:?}");
            let CallError::Request(error) = error else {
                unreachable!()
            };
            assert_eq!(error.kind(), RequestErrorKind::TimedOut);
        }
        other => panic!("expected a request timeout, got {other:?}"),
    }
    // The original client waits with the connection's request timeout (10 s).
    let slept = within("patient", probe.slow(&2000))
        .await
        .expect("the original client keeps its timeout");
    assert_eq!(slept, "slept 2000");
    // The short timeout is only for replies that take longer.
    let quick = within("quick", hasty.slow(&0)).await.expect("quick");
    assert_eq!(quick, "slept 0");

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_headers_arrive_and_stay_on_their_copy() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);

    let tagged = probe.with_header("X-Tag", "t");
    let seen = within("tagged", tagged.echo_headers(HeaderMap::new()))
        .await
        .expect("tagged");
    assert_eq!(seen, pairs(&[("X-Tag", "t")]));

    let mapped = probe.with_headers(headers(&[("X-Map", "1"), ("X-Map", "2")]));
    let more = mapped.with_header("X-More", "m");
    let seen = within("more", more.echo_headers(HeaderMap::new()))
        .await
        .expect("more");
    assert_eq!(
        seen,
        pairs(&[("X-Map", "1"), ("X-Map", "2"), ("X-More", "m")])
    );

    // They go with the body of any endpoint, and leave the body as it is.
    let mut raw_spy = setup.spy("probe.raw").await;
    let echoed: Vec<u8> = within("tagged raw", tagged.raw(Bytes::from_static(BINARY)))
        .await
        .expect("tagged raw");
    assert_eq!(echoed, BINARY);
    let sent = next("tagged raw on the wire", &mut raw_spy).await;
    assert_eq!(sent.payload, BINARY);
    assert_eq!(
        sent.headers.as_ref().and_then(|h| h.get("X-Tag")),
        Some("t"),
        "{:?}",
        sent.headers
    );

    // None of this leaked into the clients they were made from.
    let seen = within("original", probe.echo_headers(HeaderMap::new()))
        .await
        .expect("original");
    assert_eq!(seen, pairs(&[]), "the original client sends no headers");
    let seen = within("mapped", mapped.echo_headers(HeaderMap::new()))
        .await
        .expect("mapped");
    assert_eq!(seen, pairs(&[("X-Map", "1"), ("X-Map", "2")]));

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_layer_fails_slow_calls_as_middleware() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);
    let layered = probe
        .clone()
        .layer(TimeoutLayer::new(Duration::from_millis(200)));

    match within("layered slow", layered.slow(&2000)).await {
        Err(error) if error.is_timeout() => assert!(
            matches!(&error, CallError::Middleware(e) if e.is::<tower::timeout::error::Elapsed>()),
            "expected the layer's Elapsed, got {error:?}"
        ),
        other => panic!("expected the timeout layer's error, got {other:?}"),
    }
    let quick = within("layered quick", layered.slow(&0))
        .await
        .expect("quick");
    assert_eq!(quick, "slept 0");
    // The client the layer was added to has none.
    let slept = within("unlayered slow", probe.slow(&2000))
        .await
        .expect("no layer, no middleware timeout");
    assert_eq!(slept, "slept 2000");

    setup.stop().await;
}

/// Ten concurrent `gauge` calls through `client`, each answering once `until` calls are in
/// flight together (or after [`RENDEZVOUS`]); every call must answer with its own id.
async fn ten_concurrent<S>(client: &ProbeClient<S>, until: usize)
where
    ProbeClient<S>: Clone + Send + 'static,
    S: tower::Service<ClientCall, Response = Option<Message>> + Clone + Send + 'static,
    S::Error: Into<CallError>,
    S::Future: Send,
{
    let mut calls = JoinSet::new();
    for id in 0..10 {
        let client = client.clone();
        calls.spawn(async move {
            let answered = client.gauge(&Hold { id, until }).await;
            assert_eq!(answered.expect("gauge"), id);
        });
    }
    let mut answered = 0;
    while let Some(done) = within("gauge calls", calls.join_next()).await {
        done.expect("a gauge call succeeded");
        answered += 1;
    }
    assert_eq!(answered, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_limit_layer_bounds_calls_in_flight() {
    let setup = setup().await;
    let probe = ProbeClient::new(&setup.client);

    // Without a limit, the ten calls are all in flight at once: the handler does not limit.
    ten_concurrent(&probe, 10).await;
    assert!(
        setup.gauge.max.load(Ordering::SeqCst) > 2,
        "the service itself must allow more than 2 calls at once for the limit to show"
    );

    setup.gauge.max.store(0, Ordering::SeqCst);
    let limited = probe.layer(ConcurrencyLimitLayer::new(2));
    ten_concurrent(&limited, 2).await;
    assert_eq!(
        setup.gauge.max.load(Ordering::SeqCst),
        2,
        "two calls at a time, never more (and the limit lets two through)"
    );

    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_see_every_call_and_keep_service_errors() {
    let setup = setup().await;
    let record = RecordLayer::default();
    let probe = ProbeClient::new(&setup.client)
        .layer(record.clone())
        .layer(TimeoutLayer::new(Duration::from_secs(8)))
        .layer(ConcurrencyLimitLayer::new(2));

    let subject = within("get user", probe.get_user("9"))
        .await
        .expect("get user");
    assert_eq!(subject, "users.9.get");
    let seen = within("file", probe.file("a", "b", "c.d", "x"))
        .await
        .expect("file");
    assert_eq!(seen, "files.a.b.c.d x");
    let fired = tokio::time::timeout(Duration::from_secs(5), probe.fire(Bytes::new()))
        .await
        .expect("a NoReply call does not wait");
    fired.expect("fire through layers");

    // Error replies pass through the layers (boxed by the timeout layer) as themselves.
    let error = service_error("checked", within("checked", probe.checked(&-1)).await);
    assert_eq!(error, ServiceError::new("NEGATIVE", "-1 is negative"));
    let error = service_error("refuse", within("refuse", probe.refuse()).await);
    assert_eq!(error, ServiceError::new(503, "closed"));
    // So do request failures of the caller at the bottom, and the per-call options.
    match within(
        "hasty",
        probe.with_timeout(Duration::from_millis(200)).slow(&2000),
    )
    .await
    {
        Err(CallError::Request(error)) => assert_eq!(error.kind(), RequestErrorKind::TimedOut),
        other => panic!("expected the request's own timeout, got {other:?}"),
    }

    // A call refused before it is built never reaches the layers.
    let _ = invalid_argument("bad", within("bad", probe.get_user("a.b")).await);

    // Endpoint names are the methods' with `_` as `-`.
    assert_eq!(
        record.seen(),
        [
            ("get-user", "users.9.get".to_owned(), true),
            ("file", "files.a.b.c.d".to_owned(), true),
            ("fire", "probe.fire".to_owned(), false),
            ("checked", "probe.checked".to_owned(), true),
            ("refuse", "probe.refuse".to_owned(), true),
            ("slow", "probe.slow".to_owned(), true),
        ]
    );

    setup.stop().await;
}
