//! The event pipeline: the code that does something emits an event; the bus hands it to a
//! background dispatcher through a bounded in-memory queue, and the dispatcher writes it to the
//! sinks that want it: the log, this instance's ring of recent events, the audit table, the
//! webhook outbox, a Redis stream. The request that caused the event never waits for a sink.
//!
//! Token issuance runs at tens of thousands per second, so an event that no sink wants is never
//! built at all (one bit test), and one that is wanted costs a random id and a queue push on the
//! request path; the database sees one multi-row insert per batch.

use crate::settings::Secret;
use oauth2_core::events::{Event, EventFilter, EventKind, webhook_backoff, webhook_signature};
use oauth2_core::ports::{OutboxItem, Storage};
use oauth2_core::{SecureRandom, SystemRandom, UnixTime};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot, watch};

/// What the request being served tells the events it causes: set around each request by the web
/// layer, carried across the actor hop by [`crate::messages::Traced`].
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub request_id: Option<String>,
    pub address: Option<String>,
}

tokio::task_local! {
    /// Shared, not copied: it is handed on with every actor message of the request.
    pub static REQUEST: Arc<RequestInfo>;
}

/// The request being served, if any.
pub fn current_request() -> Option<Arc<RequestInfo>> {
    REQUEST.try_with(Arc::clone).ok()
}

/// Which events go where.
#[derive(Debug, Clone)]
pub struct EventSettings {
    /// Events produced at all; the sinks choose among these.
    pub events: EventFilter,
    pub log: EventFilter,
    pub ring: EventFilter,
    pub ring_size: usize,
    pub audit: EventFilter,
    /// Audit rows and given-up webhook items older than this are deleted; 0 keeps them.
    pub retention_secs: i64,
    pub webhook: Option<WebhookSettings>,
    pub redis: Option<RedisSettings>,
    /// Events waiting for the dispatcher; when full, new events are dropped (and counted).
    pub queue_capacity: usize,
}

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub url: String,
    pub secret: Secret,
    pub events: EventFilter,
    pub timeout: Duration,
    pub max_attempts: u32,
    /// Seconds before the first retry; doubles with each failure, at most an hour.
    pub backoff_secs: u64,
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: Secret,
    pub stream: String,
    /// Approximate length the stream is trimmed to (`XADD ... MAXLEN ~`).
    pub max_len: u64,
    pub events: EventFilter,
}

/// Events that happen all the time: no sink takes them unless asked to.
pub const DEFAULT_SINK_FILTER: &str = "*,-token.issued,-token.introspected";

/// The webhook, whose every event costs an outbox row and a POST, also leaves out refused token
/// requests by default: a flood of bad credentials must not become a flood of deliveries.
pub const DEFAULT_WEBHOOK_FILTER: &str = "*,-token.issued,-token.introspected,-token.refused";

impl Default for EventSettings {
    fn default() -> Self {
        let usual = EventFilter::parse(DEFAULT_SINK_FILTER).unwrap_or_default();
        EventSettings {
            events: EventFilter::all(),
            log: usual,
            ring: usual,
            ring_size: 1000,
            audit: usual,
            retention_secs: 90 * 24 * 3600,
            webhook: None,
            redis: None,
            queue_capacity: 65_536,
        }
    }
}

impl EventSettings {
    /// The kinds some sink takes: the only ones worth building.
    fn wanted(&self) -> EventFilter {
        let mut sinks = self.log.union(self.ring).union(self.audit);
        if let Some(w) = &self.webhook {
            sinks = sinks.union(w.events);
        }
        if let Some(r) = &self.redis {
            sinks = sinks.union(r.events);
        }
        self.events.intersect(sinks)
    }
}

/// An event before the bus gives it an id, a time and the request's details.
#[derive(Debug, Clone)]
pub struct EventDraft {
    kind: EventKind,
    actor: Option<String>,
    client_id: Option<String>,
    user_id: Option<String>,
    subject: Option<String>,
    address: Option<String>,
    detail: serde_json::Value,
}

impl EventDraft {
    pub fn new(kind: EventKind) -> EventDraft {
        EventDraft {
            kind,
            actor: None,
            client_id: None,
            user_id: None,
            subject: None,
            address: None,
            detail: serde_json::Value::Object(Default::default()),
        }
    }
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }
    pub fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
    /// The caller's address when it is not the request's (set by the web layer).
    pub fn address(mut self, address: Option<String>) -> Self {
        self.address = address;
        self
    }
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

enum Msg {
    Event(Box<Event>),
    /// Answered once everything queued before it has been through the sinks.
    Flush(oneshot::Sender<()>),
}

/// Where events are emitted; one per process, shared by every worker.
pub struct EventBus {
    settings: EventSettings,
    wanted: EventFilter,
    tx: mpsc::Sender<Msg>,
    rx: Mutex<Option<mpsc::Receiver<Msg>>>,
    running: AtomicBool,
    ring: Mutex<VecDeque<Event>>,
    rng: SystemRandom,
    /// Wakes the webhook deliverer when the outbox got new items.
    outbox_filled: Notify,
    dropped_warned_at: AtomicU64,
}

impl EventBus {
    pub fn new(settings: EventSettings) -> EventBus {
        let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
        EventBus {
            wanted: settings.wanted(),
            ring: Mutex::new(VecDeque::with_capacity(settings.ring_size.min(10_000))),
            settings,
            tx,
            rx: Mutex::new(Some(rx)),
            running: AtomicBool::new(false),
            rng: SystemRandom::new(),
            outbox_filled: Notify::new(),
            dropped_warned_at: AtomicU64::new(0),
        }
    }

    /// Whether an event of this kind would go anywhere (emitting one that would not is free,
    /// but building its detail may not be).
    pub fn wants(&self, kind: EventKind) -> bool {
        self.wanted.allows(kind)
    }

    /// Queues an event for the sinks; never waits. A full queue drops it (counted, and warned
    /// about at most once a minute).
    pub fn emit(&self, draft: EventDraft) {
        let Some(event) = self.prepare(draft) else {
            return;
        };
        if let Err(e) = self.tx.try_send(event) {
            metrics::counter!("oauth2_events_dropped_total", "reason" => "queue_full").increment(1);
            let now = crate::now() as u64;
            let last = self.dropped_warned_at.load(Ordering::Relaxed);
            if now >= last + 60
                && self
                    .dropped_warned_at
                    .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "the event queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the event dispatcher has stopped",
                };
                tracing::warn!("events are being dropped: {why}");
            }
        }
    }

    /// Emits an event and waits until the sinks have it: for changes an operator expects to
    /// see in the audit log as soon as the call returns (admin actions, the CLI).
    pub async fn record(&self, draft: EventDraft) {
        let Some(event) = self.prepare(draft) else {
            return;
        };
        if self.running.load(Ordering::Acquire) {
            // Waits for room rather than dropping: a flood of refused requests must not push an
            // admin's change out of the audit log.
            let _ = self.tx.send(event).await;
        } else if self.tx.try_send(event).is_err() {
            metrics::counter!("oauth2_events_dropped_total", "reason" => "queue_full").increment(1);
        }
        self.flush().await;
    }

    /// Waits until every event queued so far has been through the sinks. Returns at once when
    /// no dispatcher runs (nothing would ever answer).
    pub async fn flush(&self) {
        if !self.running.load(Ordering::Acquire) {
            return;
        }
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// This instance's most recent events (as the ring sink keeps them), newest first.
    pub fn recent(&self, limit: usize) -> Vec<Event> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.iter().rev().take(limit).cloned().collect()
    }

    /// The queue message of a wanted event (counted), or `None` when no sink takes its kind.
    fn prepare(&self, draft: EventDraft) -> Option<Msg> {
        if !self.wants(draft.kind) {
            return None;
        }
        let event = self.finish(draft);
        metrics::counter!("oauth2_events_total", "type" => event.kind.as_str()).increment(1);
        Some(Msg::Event(Box::new(event)))
    }

    fn finish(&self, d: EventDraft) -> Event {
        let mut id = [0u8; 16];
        // A failed RNG makes the id less unique, which must not fail what caused the event.
        let _ = self.rng.fill(&mut id);
        let request = current_request();
        let request = request.as_deref();
        Event {
            id: oauth2_core::secret::to_hex(&id),
            kind: d.kind,
            time: crate::now(),
            actor: d.actor,
            client_id: d.client_id,
            user_id: d.user_id,
            subject: d.subject,
            address: d
                .address
                .or_else(|| request.and_then(|r| r.address.clone())),
            outcome: d.kind.outcome(),
            request_id: request.and_then(|r| r.request_id.clone()),
            detail: d.detail,
        }
    }

    /// Starts the dispatcher (and, with `deliver`, the webhook deliverer when a webhook is
    /// configured) on the current Tokio runtime. Call once; [`EventTasks::shutdown`] drains and
    /// stops them. The CLI does not deliver: its events wait in the outbox for a server.
    pub fn start(self: &Arc<Self>, store: Arc<dyn Storage>, deliver: bool) -> EventTasks {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        // Started twice (a programming error): the first dispatcher keeps the queue.
        let dispatcher = rx.map(|rx| {
            self.running.store(true, Ordering::Release);
            tokio::spawn(dispatch(self.clone(), store.clone(), rx))
        });
        let (stop, stopped) = watch::channel(false);
        let deliverer = self
            .settings
            .webhook
            .clone()
            .filter(|_| deliver)
            .map(|hook| tokio::spawn(deliver_webhooks(self.clone(), store.clone(), hook, stopped)));
        EventTasks {
            bus: self.clone(),
            dispatcher,
            deliverer,
            stop,
        }
    }
}

/// The running dispatcher and deliverer.
pub struct EventTasks {
    bus: Arc<EventBus>,
    dispatcher: Option<tokio::task::JoinHandle<()>>,
    deliverer: Option<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl EventTasks {
    /// At shutdown: puts every queued event through the sinks (into the outbox, for webhooks)
    /// and stops delivering, handing back what was claimed but not delivered.
    pub async fn shutdown(self) {
        self.bus.flush().await;
        let _ = self.stop.send(true);
        if let Some(d) = self.deliverer {
            let _ = d.await;
        }
        if let Some(d) = self.dispatcher {
            d.abort();
        }
    }
}

/// How many events the dispatcher takes from the queue at once.
const BATCH: usize = 512;

async fn dispatch(bus: Arc<EventBus>, store: Arc<dyn Storage>, mut rx: mpsc::Receiver<Msg>) {
    let mut redis = bus.settings.redis.clone().map(RedisSink::new);
    let mut events = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Event(e) => events.push(*e),
                Msg::Flush(done) => flushes.push(done),
            }
            next = if events.len() < BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        bus.write(&events, store.as_ref(), redis.as_mut()).await;
        events.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

impl EventBus {
    async fn write(&self, events: &[Event], store: &dyn Storage, redis: Option<&mut RedisSink>) {
        let s = &self.settings;
        let chosen = |f: EventFilter| -> Vec<&Event> {
            events.iter().filter(|e| f.allows(e.kind)).collect()
        };
        for e in chosen(s.log) {
            log_event(e);
        }
        let for_ring = chosen(s.ring);
        if !for_ring.is_empty() && s.ring_size > 0 {
            let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
            for e in for_ring {
                if ring.len() == s.ring_size {
                    ring.pop_front();
                }
                ring.push_back(e.clone());
            }
        }
        let for_audit: Vec<Event> = chosen(s.audit).into_iter().cloned().collect();
        if !for_audit.is_empty() {
            with_retries("audit", for_audit.len(), || store.append_events(&for_audit)).await;
        }
        if let Some(hook) = &s.webhook {
            let items: Vec<(String, String)> = chosen(hook.events)
                .into_iter()
                .map(|e| (e.id.clone(), e.to_json()))
                .collect();
            if !items.is_empty() {
                let now = crate::now();
                if with_retries("webhook_outbox", items.len(), || {
                    store.enqueue_webhooks(&items, now)
                })
                .await
                {
                    self.outbox_filled.notify_one();
                }
            }
        }
        if let (Some(redis), Some(cfg)) = (redis, &s.redis) {
            let chosen = chosen(cfg.events);
            if !chosen.is_empty() {
                redis.publish(&chosen).await;
            }
        }
    }
}

/// Writes to a database sink, trying three times over about a second and a half; then the
/// events are dropped (counted, logged).
async fn with_retries<F, Fut>(sink: &'static str, count: usize, mut write: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), oauth2_core::ports::StoreError>>,
{
    let started = Instant::now();
    let mut last = None;
    for pause in [0u64, 250, 1250] {
        if pause > 0 {
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        match write().await {
            Ok(()) => {
                metrics::counter!("oauth2_event_sink_writes_total", "sink" => sink, "result" => "ok")
                    .increment(1);
                metrics::histogram!("oauth2_event_sink_write_duration_seconds", "sink" => sink)
                    .record(started.elapsed().as_secs_f64());
                return true;
            }
            Err(e) => last = Some(e),
        }
    }
    metrics::counter!("oauth2_event_sink_writes_total", "sink" => sink, "result" => "error")
        .increment(1);
    metrics::counter!("oauth2_events_dropped_total", "reason" => "sink_error")
        .increment(count as u64);
    if let Some(e) = last {
        tracing::error!(sink, count, error = %e, "events lost: the sink could not be written");
    }
    false
}

/// The log sink: one line per event, under the `oauth2::event` target.
fn log_event(e: &Event) {
    let detail = e.detail.to_string();
    tracing::info!(
        target: "oauth2::event",
        event_id = %e.id,
        event_type = e.kind.as_str(),
        outcome = e.outcome.as_str(),
        actor = e.actor.as_deref(),
        client_id = e.client_id.as_deref(),
        user_id = e.user_id.as_deref(),
        subject = e.subject.as_deref(),
        address = e.address.as_deref(),
        event_request_id = e.request_id.as_deref(),
        detail = %detail,
        "event {}",
        e.kind
    );
}

/// The Redis stream sink: `XADD stream MAXLEN ~ n * type <type> event <json>`, pipelined per
/// batch. Best effort (at most once): while Redis is away its events are dropped and counted;
/// the webhook outbox is what delivers at least once.
struct RedisSink {
    cfg: RedisSettings,
    conn: Option<redis::aio::MultiplexedConnection>,
    /// After a failure Redis is left alone for a while, so an outage costs the other sinks (which
    /// share the dispatcher) one timeout, not one per batch.
    resting_until: Option<Instant>,
}

/// How long the Redis sink rests after a failed write.
const REDIS_REST: Duration = Duration::from_secs(30);

impl RedisSink {
    fn new(cfg: RedisSettings) -> RedisSink {
        RedisSink {
            cfg,
            conn: None,
            resting_until: None,
        }
    }

    async fn connect(&mut self) -> redis::RedisResult<&mut redis::aio::MultiplexedConnection> {
        if self.conn.is_none() {
            let client = redis::Client::open(self.cfg.url.0.as_str())?;
            let conn = tokio::time::timeout(
                Duration::from_secs(2),
                client.get_multiplexed_async_connection(),
            )
            .await
            .map_err(|_| {
                redis::RedisError::from((redis::ErrorKind::Io, "connection timed out"))
            })??;
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| redis::RedisError::from((redis::ErrorKind::Io, "not connected")))
    }

    async fn publish(&mut self, events: &[&Event]) {
        if self.resting_until.is_some_and(|t| Instant::now() < t) {
            metrics::counter!("oauth2_events_dropped_total", "reason" => "sink_error")
                .increment(events.len() as u64);
            return;
        }
        let started = Instant::now();
        let mut pipe = redis::pipe();
        for e in events {
            pipe.cmd("XADD")
                .arg(&self.cfg.stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.cfg.max_len)
                .arg("*")
                .arg("type")
                .arg(e.kind.as_str())
                .arg("event")
                .arg(e.to_json())
                .ignore();
        }
        // One reconnect: a connection Redis closed (restart, idle timeout) is not an outage.
        let mut result = Err(redis::RedisError::from((redis::ErrorKind::Io, "not tried")));
        for _ in 0..2 {
            result = match self.connect().await {
                Ok(conn) => pipe.query_async::<()>(conn).await,
                Err(e) => Err(e),
            };
            if result.is_ok() {
                break;
            }
            self.conn = None;
        }
        match result {
            Ok(()) => {
                metrics::counter!("oauth2_event_sink_writes_total", "sink" => "redis", "result" => "ok")
                    .increment(1);
                metrics::histogram!("oauth2_event_sink_write_duration_seconds", "sink" => "redis")
                    .record(started.elapsed().as_secs_f64());
            }
            Err(e) => {
                self.resting_until = Some(Instant::now() + REDIS_REST);
                metrics::counter!("oauth2_event_sink_writes_total", "sink" => "redis", "result" => "error")
                    .increment(1);
                metrics::counter!("oauth2_events_dropped_total", "reason" => "sink_error")
                    .increment(events.len() as u64);
                tracing::error!(count = events.len(), error = %e, "events lost: the Redis stream could not be written; trying again in 30 s");
            }
        }
    }
}

/// How many outbox items one instance delivers at once.
const IN_FLIGHT: u32 = 16;

/// The webhook deliverer: claims due outbox items, POSTs them signed, and records the outcome.
async fn deliver_webhooks(
    bus: Arc<EventBus>,
    store: Arc<dyn Storage>,
    hook: WebhookSettings,
    mut stopped: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .user_agent(concat!("oauth2-server/", env!("CARGO_PKG_VERSION")))
        .timeout(hook.timeout)
        // A webhook that redirects is misconfigured; following could leak events elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client: webhooks stay in the outbox");
            return;
        }
    };
    let key = Arc::new(oauth2_core::events::webhook_key(&hook.secret.0));
    let hook = Arc::new(hook);
    // A claim outlives the longest attempt, so it is never taken over while being delivered.
    let lease = hook.timeout.as_secs() as i64 + 5;
    let mut counted_at: Option<Instant> = None;
    loop {
        if *stopped.borrow() {
            break;
        }
        if counted_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            counted_at = Some(Instant::now());
            if let Ok(c) = store.outbox_counts().await {
                metrics::gauge!("oauth2_webhook_outbox_pending").set(c.pending as f64);
                metrics::gauge!("oauth2_webhook_outbox_failed").set(c.failed as f64);
            }
        }
        let now = crate::now();
        let lease_until = now + lease;
        let claimed = match store.claim_webhooks(now, lease_until, IN_FLIGHT).await {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the webhook outbox");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = bus.outbox_filled.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                // A change is the stop; an error means the sender is gone: stop too.
                changed = stopped.changed() => if changed.is_err() { break },
            }
            continue;
        }
        let mut pending: std::collections::HashSet<i64> = claimed.iter().map(|i| i.id).collect();
        let mut attempts = tokio::task::JoinSet::new();
        for item in claimed {
            attempts.spawn(attempt(
                client.clone(),
                hook.clone(),
                key.clone(),
                store.clone(),
                item,
                lease_until,
            ));
        }
        loop {
            tokio::select! {
                done = attempts.join_next() => match done {
                    Some(Ok(id)) => { pending.remove(&id); }
                    Some(Err(_)) => {}
                    None => break,
                },
                _ = stopped.changed() => {
                    // Shutting down: what is still in flight is handed back for the next start
                    // (or another instance) rather than waited for.
                    attempts.abort_all();
                    let ids: Vec<i64> = pending.iter().copied().collect();
                    if let Err(e) = store.release_webhooks(&ids).await {
                        tracing::warn!(error = %e, "cannot release webhook claims; they run out by themselves");
                    }
                    return;
                }
            }
        }
    }
}

/// One delivery attempt; returns the item's id when its outcome is recorded.
async fn attempt(
    client: reqwest::Client,
    hook: Arc<WebhookSettings>,
    key: Arc<Vec<u8>>,
    store: Arc<dyn Storage>,
    item: OutboxItem,
    lease_until: UnixTime,
) -> i64 {
    let timestamp = crate::now();
    let signature = webhook_signature(&key, &item.event_id, timestamp, item.payload.as_bytes());
    let sent = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("webhook-id", &item.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(item.payload.clone())
        .send()
        .await;
    let error = match sent {
        Ok(r) if r.status().is_success() => None,
        Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
        // Without the URL: it may carry credentials.
        Err(e) => Some(e.without_url().to_string()),
    };
    let now = crate::now();
    let recorded = match error {
        None => {
            metrics::counter!("oauth2_webhook_deliveries_total", "result" => "delivered")
                .increment(1);
            store.webhook_delivered(item.id, lease_until).await
        }
        Some(error) => {
            let attempts = item.attempts + 1;
            let retry_at = (attempts < hook.max_attempts).then(|| {
                let jitter = jitter();
                now + webhook_backoff(hook.backoff_secs, attempts, jitter) as UnixTime
            });
            let result = if retry_at.is_some() {
                "retry"
            } else {
                "gave_up"
            };
            metrics::counter!("oauth2_webhook_deliveries_total", "result" => result).increment(1);
            if retry_at.is_none() {
                tracing::warn!(event_id = %item.event_id, attempts, %error, "webhook delivery gave up");
            } else {
                tracing::debug!(event_id = %item.event_id, attempts, %error, "webhook delivery failed; will retry");
            }
            store
                .webhook_failed(item.id, lease_until, retry_at, &error, now)
                .await
        }
    };
    match recorded {
        Ok(true) => {}
        // The claim ran out during the attempt (a stalled process): the item is another
        // claim's now, and its outcome that claim's to record.
        Ok(false) => {
            tracing::debug!(event_id = %item.event_id, "webhook claim ran out before the outcome was recorded")
        }
        // The claim runs out and the item is tried again: at least once, perhaps twice.
        Err(e) => tracing::warn!(error = %e, "cannot record a webhook delivery's outcome"),
    }
    item.id
}

fn jitter() -> f64 {
    let mut b = [0u8; 2];
    let _ = SystemRandom::new().fill(&mut b);
    f64::from(u16::from_le_bytes(b)) / 65536.0
}
