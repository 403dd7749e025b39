-- Browser sessions, login throttling and server-wide secrets, SQLite flavour (conventions as in
-- 0001_initial.sql).

-- Stored by the hash of the id its cookie carries.
CREATE TABLE sessions (
    id_hash      TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);

-- One row per failed sign-in, counted per key (`user:alice`, `ip:192.0.2.1`). The id is the
-- rowid, assigned on insert; no AUTOINCREMENT: nothing refers to it, so a reused id after a
-- purge is harmless, and AUTOINCREMENT would add a write to sqlite_sequence on every failure.
CREATE TABLE login_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_key_at ON login_failures (key, at);

-- Named secrets made once and shared by every instance (e.g. the cookie key), in clear: the
-- server needs the value itself, not a hash of it.
CREATE TABLE server_secrets (
    name       TEXT    NOT NULL PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
