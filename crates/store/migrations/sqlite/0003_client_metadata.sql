-- Client metadata for OIDC RP-initiated logout and RFC 7591 / 7592, admin clients, and the initial
-- access tokens of dynamic registration; SQLite flavour (conventions as in 0001_initial.sql).
--
-- Existing clients get the defaults: no post-logout redirect URIs, no informational metadata, no
-- registration access token (they were made by an operator, not registered dynamically), not admin.

ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
-- A JSON object of the informational RFC 7591 fields (client_uri, logo_uri, contacts, ...).
ALTER TABLE clients ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
-- RFC 7592: the hash of the registration access token; NULL for clients an operator made.
ALTER TABLE clients ADD COLUMN registration_token_hash TEXT;
ALTER TABLE clients ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;

-- RFC 7591 §3 initial access tokens, stored by the hash of their value. NULL expires_at: never
-- expires; NULL max_uses: any number of registrations.
CREATE TABLE initial_access_tokens (
    token_hash  TEXT    NOT NULL PRIMARY KEY,
    description TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    max_uses    INTEGER,
    uses        INTEGER NOT NULL DEFAULT 0
) STRICT;
