-- Browser sessions, login throttling and server-wide secrets, PostgreSQL flavour (conventions as
-- in 0001_initial.sql).

-- Stored by the hash of the id its cookie carries.
CREATE TABLE sessions (
    id_hash      TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);

-- One row per failed sign-in, counted per key (`user:alice`, `ip:192.0.2.1`).
CREATE TABLE login_failures (
    id  BIGSERIAL NOT NULL PRIMARY KEY,
    key TEXT      NOT NULL,
    at  BIGINT    NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);

-- Named secrets made once and shared by every instance (e.g. the cookie key), in clear: the
-- server needs the value itself, not a hash of it.
CREATE TABLE server_secrets (
    name       TEXT   NOT NULL PRIMARY KEY,
    value      BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
