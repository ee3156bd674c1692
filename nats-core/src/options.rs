//! [`ConnectOptions`]: how to connect, mirroring the arguments of nats-py's `connect()`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{JwtCallback, Method, SignCallback, Source};
use crate::client::Client;
use crate::error::ConnectError;
use crate::event::Event;
use crate::server_addr::ToServerAddrs;
use crate::tls::{Pem, TlsOptions};

/// A boxed future returned by an event callback.
pub type CallbackFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

pub(crate) type EventCallback = Arc<dyn Fn(Event) -> CallbackFuture + Send + Sync>;

pub(crate) type DelayCallback = Arc<dyn Fn(u32) -> Duration + Send + Sync>;

/// Default number of messages a subscription may hold before dropping (`pending_msgs_limit`).
pub const DEFAULT_PENDING_MSGS_LIMIT: usize = 65_536;
/// Default number of payload bytes a subscription may hold before dropping.
pub const DEFAULT_PENDING_BYTES_LIMIT: usize = 64 * 1024 * 1024;

/// Options for [`connect`](crate::connect), built with chained calls.
///
/// ```no_run
/// # async fn demo() -> Result<(), nats_core::ConnectError> {
/// use std::time::Duration;
/// let client = nats_core::ConnectOptions::new()
///     .name("orders-api")
///     .ping_interval(Duration::from_secs(30))
///     .event_callback(|event| async move { eprintln!("nats: {event}") })
///     .connect("nats://127.0.0.1:4222")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ConnectOptions {
    pub(crate) name: Option<String>,
    pub(crate) pedantic: bool,
    pub(crate) verbose: bool,
    pub(crate) no_echo: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) allow_reconnect: bool,
    pub(crate) max_reconnect_attempts: Option<u32>,
    pub(crate) reconnect_time_wait: Duration,
    pub(crate) ping_interval: Duration,
    pub(crate) max_outstanding_pings: u32,
    pub(crate) inbox_prefix: String,
    pub(crate) flush_timeout: Option<Duration>,
    pub(crate) drain_timeout: Duration,
    pub(crate) pending_size: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) pending_msgs_limit: usize,
    pub(crate) pending_bytes_limit: usize,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) token: Option<String>,
    pub(crate) event_callback: Option<EventCallback>,
    pub(crate) randomize: bool,
    pub(crate) reconnect_jitter: Duration,
    pub(crate) reconnect_jitter_tls: Duration,
    pub(crate) reconnect_delay: Option<DelayCallback>,
    pub(crate) retry_on_initial_connect: bool,
    pub(crate) ignore_auth_error_abort: bool,
    pub(crate) lame_duck_move_within: Option<Duration>,
    pub(crate) reconnect_buffer_wait: bool,
    pub(crate) dialer: Option<Arc<dyn crate::transport::Dialer>>,
    pub(crate) tls: TlsOptions,
    pub(crate) auth: Method,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            name: None,
            pedantic: false,
            verbose: false,
            no_echo: false,
            connect_timeout: Duration::from_secs(2),
            allow_reconnect: true,
            max_reconnect_attempts: Some(60),
            reconnect_time_wait: Duration::from_secs(2),
            ping_interval: Duration::from_secs(120),
            max_outstanding_pings: 2,
            inbox_prefix: "_INBOX".to_owned(),
            flush_timeout: None,
            drain_timeout: Duration::from_secs(30),
            pending_size: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(10),
            pending_msgs_limit: DEFAULT_PENDING_MSGS_LIMIT,
            pending_bytes_limit: DEFAULT_PENDING_BYTES_LIMIT,
            user: None,
            password: None,
            token: None,
            event_callback: None,
            randomize: true,
            reconnect_jitter: Duration::from_millis(100),
            reconnect_jitter_tls: Duration::from_secs(1),
            reconnect_delay: None,
            retry_on_initial_connect: false,
            ignore_auth_error_abort: false,
            lame_duck_move_within: Some(Duration::from_secs(5)),
            reconnect_buffer_wait: false,
            dialer: None,
            tls: TlsOptions::default(),
            auth: Method::None,
        }
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("name", &self.name)
            .field("pedantic", &self.pedantic)
            .field("verbose", &self.verbose)
            .field("no_echo", &self.no_echo)
            .field("connect_timeout", &self.connect_timeout)
            .field("allow_reconnect", &self.allow_reconnect)
            .field("max_reconnect_attempts", &self.max_reconnect_attempts)
            .field("reconnect_time_wait", &self.reconnect_time_wait)
            .field("ping_interval", &self.ping_interval)
            .field("max_outstanding_pings", &self.max_outstanding_pings)
            .field("inbox_prefix", &self.inbox_prefix)
            .field("flush_timeout", &self.flush_timeout)
            .field("drain_timeout", &self.drain_timeout)
            .field("pending_size", &self.pending_size)
            .field("request_timeout", &self.request_timeout)
            .field("pending_msgs_limit", &self.pending_msgs_limit)
            .field("pending_bytes_limit", &self.pending_bytes_limit)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("randomize", &self.randomize)
            .field("reconnect_jitter", &self.reconnect_jitter)
            .field("reconnect_jitter_tls", &self.reconnect_jitter_tls)
            .field(
                "reconnect_delay",
                &self.reconnect_delay.as_ref().map(|_| "custom"),
            )
            .field("retry_on_initial_connect", &self.retry_on_initial_connect)
            .field("ignore_auth_error_abort", &self.ignore_auth_error_abort)
            .field("lame_duck_move_within", &self.lame_duck_move_within)
            .field("reconnect_buffer_wait", &self.reconnect_buffer_wait)
            .field("tls", &self.tls)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl ConnectOptions {
    /// The defaults of nats-py: connect timeout 2 s, reconnect with at most 2 s between two
    /// attempts on a server and 60 failures in a row per server, servers shuffled, ping every
    /// 120 s, 2 outstanding pings, drain timeout 30 s, 2 MiB pending size, `_INBOX` prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects to `servers` with these options.
    ///
    /// # Errors
    /// A [`ConnectError`] if no address parses or no server accepts the connection.
    pub async fn connect(self, servers: impl ToServerAddrs) -> Result<Client, ConnectError> {
        Client::connect_with(servers.to_server_addrs()?, self).await
    }

    /// Name of the connection, shown by the server's monitoring.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Asks the server for strict protocol checks.
    pub fn pedantic(mut self, pedantic: bool) -> Self {
        self.pedantic = pedantic;
        self
    }

    /// Asks the server to acknowledge every operation with `+OK`.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Asks the server not to deliver this connection's own publishes to its subscriptions.
    pub fn no_echo(mut self, no_echo: bool) -> Self {
        self.no_echo = no_echo;
        self
    }

    /// Time allowed for the TCP connection and the handshake with one server.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whether to reconnect when the connection is lost (default true). Subscriptions are
    /// sent again and what was published meanwhile (up to `pending_size`) is written to the
    /// new connection.
    ///
    /// Core NATS delivers at most once: messages already handed to the socket when the
    /// connection broke (the batch being written, and whatever the operating system had not
    /// yet delivered) are not sent again. Use [`Client::flush`](crate::Client::flush) to know
    /// that the server has everything published before it.
    pub fn allow_reconnect(mut self, allow: bool) -> Self {
        self.allow_reconnect = allow;
        self
    }

    /// Failures in a row after which a server leaves the pool (default 60, counted per
    /// server as nats-py does); once no server is left the client closes. At most one failure
    /// is counted per [`reconnect_time_wait`](Self::reconnect_time_wait), so the client gives
    /// up on a server after failing for about as long as nats-py would (2 minutes by
    /// default), however often it dialed it meanwhile. `None` tries for ever.
    pub fn max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_reconnect_attempts = attempts;
        self
    }

    /// The longest pause between two attempts on the same server (default 2 s).
    ///
    /// A server that works is dialed at once: after a loss the client dials the next server
    /// of the pool at once (in a cluster, another node), and the server just lost at once
    /// too. A server that fails is dialed again after an eighth of the time it has been
    /// failing (10 ms at least, this wait at most), plus a random jitter of up to a quarter
    /// of that (bounded by [`reconnect_jitter`](Self::reconnect_jitter)) so that many clients
    /// do not come back at the same instant: a server back after a restart of `t` is found
    /// about `t / 8` late at most. A connection lost within this wait of being made counts as
    /// a failure, so a server that accepts and drops at once is not dialed in a tight loop.
    /// nats-py waits the full time between attempts;
    /// [`reconnect_delay_callback`](Self::reconnect_delay_callback) gives any other schedule.
    pub fn reconnect_time_wait(mut self, wait: Duration) -> Self {
        self.reconnect_time_wait = wait;
        self
    }

    /// Upper bounds of the random time added to each reconnect pause, for plain and for TLS
    /// servers (defaults 100 ms and 1 s, as nats.go); a pause never grows by more than a
    /// quarter of itself.
    pub fn reconnect_jitter(mut self, plain: Duration, tls: Duration) -> Self {
        self.reconnect_jitter = plain;
        self.reconnect_jitter_tls = tls;
        self
    }

    /// Replaces the reconnect schedule: before the `n`th attempt after a loss (`n` from 1)
    /// the client waits `delay(n)`, whichever server is next; no jitter is added.
    ///
    /// ```
    /// use std::time::Duration;
    /// // Immediately, then 100 ms, 200 ms, ... up to 5 s.
    /// let options = nats_core::ConnectOptions::new().reconnect_delay_callback(|n| {
    ///     Duration::from_millis(100 * u64::from(n - 1)).min(Duration::from_secs(5))
    /// });
    /// ```
    pub fn reconnect_delay_callback<F>(mut self, delay: F) -> Self
    where
        F: Fn(u32) -> Duration + Send + Sync + 'static,
    {
        self.reconnect_delay = Some(Arc::new(delay));
        self
    }

    /// Keeps the configured order of the servers instead of shuffling them (nats-py's
    /// `dont_randomize`). Servers the cluster announces are added after them, in the order
    /// announced. async-nats calls this `retain_servers_order`.
    pub fn dont_randomize(mut self, dont: bool) -> Self {
        self.randomize = !dont;
        self
    }

    /// The same as [`dont_randomize`](Self::dont_randomize), under async-nats' name.
    pub fn retain_servers_order(self, retain: bool) -> Self {
        self.dont_randomize(retain)
    }

    /// When no server accepts the first connection, return a client anyway and keep trying
    /// in the background with the reconnect schedule (default false: connect fails). Until
    /// it connects, publishes are buffered up to `pending_size` and subscriptions are sent
    /// once connected; [`Event::Connected`] tells when.
    pub fn retry_on_initial_connect(mut self, retry: bool) -> Self {
        self.retry_on_initial_connect = retry;
        self
    }

    /// Keeps reconnecting when every server refused the credentials twice in a row (default
    /// false: the client closes then, with the server's error as its last error). Useful when
    /// credentials are rotated while the client runs.
    pub fn ignore_auth_error_abort(mut self, ignore: bool) -> Self {
        self.ignore_auth_error_abort = ignore;
        self
    }

    /// When the server announces lame duck mode, move to another server of the pool after a
    /// random delay below `within` (default 5 s), subscriptions included; `None` only reports
    /// the [`Event::LameDuckMode`] and leaves the move to the server closing the connection.
    pub fn lame_duck_move_within(mut self, within: Option<Duration>) -> Self {
        self.lame_duck_move_within = within;
        self
    }

    /// While disconnected with `pending_size` bytes buffered, make publishers wait for the
    /// connection to come back instead of failing at once with
    /// [`PublishErrorKind::ReconnectBufferFull`](crate::PublishErrorKind::ReconnectBufferFull)
    /// (the default, as nats-py and nats.go). While connected, a full buffer always makes
    /// publishers wait for the connection to write.
    pub fn reconnect_buffer_wait(mut self, wait: bool) -> Self {
        self.reconnect_buffer_wait = wait;
        self
    }

    /// Dials servers with `dialer` instead of TCP: for tests over in-memory streams.
    #[cfg(test)]
    pub(crate) fn dialer(mut self, dialer: impl crate::transport::Dialer + 'static) -> Self {
        self.dialer = Some(Arc::new(dialer));
        self
    }

    /// Interval between the client's keep-alive `PING`s.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Number of unanswered keep-alive `PING`s after which the connection counts as stale.
    pub fn max_outstanding_pings(mut self, max: u32) -> Self {
        self.max_outstanding_pings = max;
        self
    }

    /// Prefix of the inboxes made by [`Client::new_inbox`] and used for requests.
    pub fn inbox_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.inbox_prefix = prefix.into();
        self
    }

    /// Default time [`Client::flush`] waits for the server; `None` waits as long as the
    /// connection lives.
    pub fn flush_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Time [`Client::drain`] may take before the connection is closed anyway.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Bytes of outgoing data the client buffers (default 2 MiB); past this, publishing waits
    /// for the connection to write (back-pressure) or, while disconnected, fails with
    /// [`PublishErrorKind::ReconnectBufferFull`](crate::PublishErrorKind::ReconnectBufferFull)
    /// unless [`reconnect_buffer_wait`](Self::reconnect_buffer_wait) is set.
    pub fn pending_size(mut self, bytes: usize) -> Self {
        self.pending_size = bytes.max(1);
        self
    }

    /// Default timeout of [`Client::request`].
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Default pending limits of new subscriptions: messages and payload bytes held before
    /// messages are dropped and a slow-consumer event is sent.
    pub fn subscription_pending_limits(mut self, msgs: usize, bytes: usize) -> Self {
        self.pending_msgs_limit = msgs.max(1);
        self.pending_bytes_limit = bytes.max(1);
        self
    }

    /// User and password to authenticate with.
    pub fn user_and_password(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.user = Some(user.into());
        self.password = Some(password.into());
        self
    }

    /// Token to authenticate with.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Asks `token` for the token on every connect and reconnect (nats-py 2.13's callable
    /// `token`), so that short-lived tokens are refreshed.
    pub fn token_callback<F>(mut self, token: F) -> Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.auth = Method::TokenCallback(Arc::new(token));
        self
    }

    /// Authenticates with an NKey: `seed` (`SU...`) signs the server's nonce, and its public
    /// key goes in `CONNECT` (nats-py's `nkeys_seed_str`).
    pub fn nkey_seed(mut self, seed: impl Into<String>) -> Self {
        self.auth = Method::NKey(Source::Text(seed.into()));
        self
    }

    /// Authenticates with the NKey seed read from `path` on every connect (nats-py's
    /// `nkeys_seed`).
    pub fn nkey_seed_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.auth = Method::NKey(Source::File(path.into()));
        self
    }

    /// Authenticates with the user JWT and seed of a `.creds` file (as `nsc` and the NATS CLI
    /// write them), read on every connect so that a rotated file is used (nats-py's
    /// `user_credentials`).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), nats_core::ConnectError> {
    /// let client = nats_core::ConnectOptions::new()
    ///     .credentials_file("/etc/nats/app.creds")
    ///     .connect("tls://nats.example.com:4222")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn credentials_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.auth = Method::Creds(Source::File(path.into()));
        self
    }

    /// Authenticates with the content of a `.creds` file.
    pub fn credentials(mut self, creds: impl Into<String>) -> Self {
        self.auth = Method::Creds(Source::Text(creds.into()));
        self
    }

    /// Authenticates with a user JWT and a signature made elsewhere (an HSM, a vault):
    /// `jwt` gives the JWT and `sign` signs the server's nonce with the user's key, on every
    /// connect (nats-py's `user_jwt_cb` and `signature_cb`).
    pub fn jwt_callbacks<J, S>(mut self, jwt: J, sign: S) -> Self
    where
        J: Fn() -> Result<String, String> + Send + Sync + 'static,
        S: Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync + 'static,
    {
        let jwt: JwtCallback = Arc::new(jwt);
        let sign: SignCallback = Arc::new(sign);
        self.auth = Method::Jwt(jwt, sign);
        self
    }

    /// Uses TLS with every server, even one whose `INFO` does not require it (a server that
    /// does not offer TLS is then refused). Without it, TLS is used with `tls://` servers and
    /// with servers that require it. Any other TLS option implies it.
    pub fn require_tls(mut self, required: bool) -> Self {
        self.tls.required = required;
        self
    }

    /// Starts TLS before the server's `INFO`, for servers configured with `handshake_first`.
    pub fn tls_handshake_first(mut self, first: bool) -> Self {
        self.tls.handshake_first = first;
        self
    }

    /// Verifies the servers' certificates against `name` instead of the host dialed.
    pub fn tls_hostname(mut self, name: impl Into<String>) -> Self {
        self.tls.hostname = Some(name.into());
        self
    }

    /// Trusts the CA certificates of the PEM file at `path`, and only those (instead of the
    /// system's store). Can be given more than once.
    pub fn tls_ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tls.roots.push(Pem::File(path.into()));
        self
    }

    /// Trusts the CA certificates of `pem`, and only those.
    pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.roots.push(Pem::Bytes(pem.into()));
        self
    }

    /// Presents the client certificate (chain) and key of these PEM files, for mutual TLS.
    pub fn tls_client_cert_files(
        mut self,
        cert: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.tls.client_cert = Some((Pem::File(cert.into()), Pem::File(key.into())));
        self
    }

    /// Presents the client certificate (chain) and key given as PEM, for mutual TLS.
    pub fn tls_client_cert_pem(
        mut self,
        cert: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> Self {
        self.tls.client_cert = Some((Pem::Bytes(cert.into()), Pem::Bytes(key.into())));
        self
    }

    /// Uses this rustls configuration as it is (the Rust counterpart of nats-py's
    /// `ssl.SSLContext`): the CA and client certificate options are then ignored, and no
    /// root is added to it.
    pub fn tls_client_config(mut self, config: crate::rustls::ClientConfig) -> Self {
        self.tls.config = Some(Arc::new(config));
        self
    }

    /// Calls `callback` for every [`Event`]: errors, disconnects, reconnects, close, slow
    /// consumers, discovered servers, lame duck mode.
    /// Callbacks add up: each one set, with this method or the named ones, is called in
    /// the order it was set.
    pub fn event_callback<F, Fut>(self, callback: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.filtered_callback(move |event| Some(callback(event)))
    }

    /// Calls `callback` with the text of each error event (nats-py's `error_cb`).
    pub fn error_callback<F, Fut>(self, callback: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.filtered_callback(move |event| match event {
            Event::Error(text) => Some(callback(text)),
            Event::SlowConsumer { .. } => Some(callback(event.to_string())),
            _ => None,
        })
    }

    /// Calls `callback` when the connection is lost (nats-py's `disconnected_cb`).
    pub fn disconnected_callback<F, Fut>(self, callback: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.filtered_callback(move |event| (event == Event::Disconnected).then(&callback))
    }

    /// Calls `callback` when the connection is back (nats-py's `reconnected_cb`).
    pub fn reconnected_callback<F, Fut>(self, callback: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.filtered_callback(move |event| (event == Event::Reconnected).then(&callback))
    }

    /// Calls `callback` once the client is closed (nats-py's `closed_cb`).
    pub fn closed_callback<F, Fut>(self, callback: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.filtered_callback(move |event| (event == Event::Closed).then(&callback))
    }

    /// Calls `callback` with servers the cluster announced (nats-py's `discovered_server_cb`).
    pub fn discovered_servers_callback<F, Fut>(self, callback: F) -> Self
    where
        F: Fn(Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.filtered_callback(move |event| match event {
            Event::DiscoveredServers(servers) => Some(callback(servers)),
            _ => None,
        })
    }

    /// Chains `pick` after the callback already set, so that several named callbacks combine.
    fn filtered_callback<P, Fut>(mut self, pick: P) -> Self
    where
        P: Fn(Event) -> Option<Fut> + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let previous = self.event_callback.take();
        self.event_callback = Some(Arc::new(move |event: Event| {
            let earlier = previous.as_ref().map(|cb| cb(event.clone()));
            let ours = pick(event);
            Box::pin(async move {
                if let Some(fut) = earlier {
                    fut.await;
                }
                if let Some(fut) = ours {
                    fut.await;
                }
            })
        }));
        self
    }
}
