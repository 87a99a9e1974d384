-- One row per message of a send instance (its recipients), and the per-account
-- suppression list. Timestamps are Unix milliseconds.

CREATE TABLE recipients (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id     INTEGER NOT NULL,
    mid             INTEGER NOT NULL,
    record_id       TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    email_norm      TEXT    NOT NULL,
    domain          TEXT    NOT NULL,
    fields          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     INTEGER,
    first_attempt_at INTEGER,
    completed_at    INTEGER,
    last_reply      TEXT,
    UNIQUE (instance_id, record_id)
);
CREATE INDEX recipients_due ON recipients (status, next_attempt_at);
CREATE INDEX recipients_instance ON recipients (instance_id, status);
CREATE INDEX recipients_instance_email ON recipients (instance_id, email_norm);

CREATE TABLE suppressions (
    mid        INTEGER NOT NULL,
    email_norm TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    detail     TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (mid, email_norm)
);
