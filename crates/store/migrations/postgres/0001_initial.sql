-- The initial schema, PostgreSQL flavour.
--
-- Conventions, shared with migrations/sqlite:
--   * timestamps are Unix seconds (BIGINT);
--   * lists (clients.redirect_uris, clients.grant_types) are JSON arrays of strings, in TEXT;
--   * scopes are space-separated scope tokens, as on the wire (RFC 6749 §3.3);
--   * codes, refresh tokens and client secrets are stored as hashes only.
--
-- Keys that are listed in order (client_id, username, kid) use the "C" collation: byte order, as on
-- SQLite, whatever the database's locale, so that paging is the same on every backend.

CREATE TABLE clients (
    client_id     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    secret_hash   TEXT,
    name          TEXT    NOT NULL,
    redirect_uris TEXT    NOT NULL,
    grant_types   TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    auth_method   TEXT    NOT NULL,
    skip_consent  BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE users (
    id               TEXT    NOT NULL PRIMARY KEY,
    username         TEXT COLLATE "C" NOT NULL UNIQUE,
    email            TEXT,
    password_hash    TEXT,
    enabled          BOOLEAN NOT NULL,
    admin            BOOLEAN NOT NULL,
    -- The upstream identity provider of a user who signs in through one (not in the domain yet).
    provider         TEXT,
    provider_user_id TEXT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    UNIQUE (provider, provider_user_id)
);

CREATE TABLE authorization_codes (
    code_hash             TEXT   NOT NULL PRIMARY KEY,
    client_id             TEXT COLLATE "C" NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id               TEXT   NOT NULL,
    redirect_uri          TEXT   NOT NULL,
    scope                 TEXT   NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    nonce                 TEXT,
    auth_time             BIGINT NOT NULL,
    family_id             TEXT   NOT NULL,
    expires_at            BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    used_at               BIGINT
);
CREATE INDEX authorization_codes_client_id ON authorization_codes (client_id);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

CREATE TABLE access_tokens (
    jti        TEXT   NOT NULL PRIMARY KEY,
    family_id  TEXT   NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id    TEXT,
    scope      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_family_id ON access_tokens (family_id);
CREATE INDEX access_tokens_client_id ON access_tokens (client_id);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

-- The deny list. No foreign key: an entry outlives the client and the token record, until the
-- token would have expired anyway.
CREATE TABLE revoked_access_tokens (
    jti        TEXT   NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    family_id  TEXT   NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id    TEXT,
    scope      TEXT   NOT NULL,
    auth_time  BIGINT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_client_id ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE consents (
    user_id    TEXT   NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_id ON consents (client_id);

CREATE TABLE signing_keys (
    kid         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    algorithm   TEXT   NOT NULL,
    -- PKCS#8 DER of the private key.
    private_key BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    activate_at BIGINT NOT NULL,
    retire_at   BIGINT
);
