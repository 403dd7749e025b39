-- The admin API: its audit log, and indexes for listing and revoking a user's tokens; SQLite
-- flavour (conventions as in 0001_initial.sql).

-- One row per change made through the admin API or the admin CLI. AUTOINCREMENT: an id is never
-- reused, so "events after id N" keeps its meaning for as long as the log is kept.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    -- `area.verb`: client.created, user.disabled, key.rotated, ...
    kind    TEXT    NOT NULL,
    -- The admin user's id, the admin client's id, or `cli`.
    actor   TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    -- A JSON value; never a secret.
    detail  TEXT    NOT NULL
) STRICT;

CREATE INDEX access_tokens_user_id ON access_tokens (user_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
