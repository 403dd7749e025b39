-- The admin API: its audit log, and indexes for listing and revoking a user's tokens; PostgreSQL
-- flavour (conventions as in 0001_initial.sql).

-- One row per change made through the admin API or the admin CLI; ids increase with time.
CREATE TABLE events (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    -- `area.verb`: client.created, user.disabled, key.rotated, ...
    kind    TEXT   NOT NULL,
    -- The admin user's id, the admin client's id, or `cli`.
    actor   TEXT   NOT NULL,
    subject TEXT   NOT NULL,
    -- A JSON value, in TEXT like the other JSON columns: the store reads and writes it whole.
    -- Never a secret.
    detail  TEXT   NOT NULL
);

CREATE INDEX access_tokens_user_id ON access_tokens (user_id);
CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id);
