-- The event system: the audit table grows to hold every kind of event (not only admin changes),
-- and webhooks get an outbox; SQLite flavour (conventions as in 0001_initial.sql).

-- The event's own id (random, what webhook receivers deduplicate by); NULL for rows written
-- before this migration, which are then named by their row id.
ALTER TABLE events ADD COLUMN event_id TEXT;
ALTER TABLE events ADD COLUMN client_id TEXT;
ALTER TABLE events ADD COLUMN user_id TEXT;
ALTER TABLE events ADD COLUMN address TEXT;
-- `success` or `failure`.
ALTER TABLE events ADD COLUMN outcome TEXT NOT NULL DEFAULT 'success';
ALTER TABLE events ADD COLUMN request_id TEXT;
-- Retention deletes by time.
CREATE INDEX events_at ON events (at);

-- One row per event still to be delivered to the webhook (at least once: a row goes only when the
-- receiver answered 2xx, or when delivery gave up).
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL,
    -- The exact JSON body to send (signed at each attempt: the signature covers the time).
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- Claimed by an instance until then: a crashed instance's claims run out and another (or the
    -- same, restarted) takes them over.
    locked_until    INTEGER,
    last_error      TEXT,
    -- Set when delivery gave up after the last attempt; kept for inspection until retention.
    failed_at       INTEGER
) STRICT;

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE failed_at IS NULL;
