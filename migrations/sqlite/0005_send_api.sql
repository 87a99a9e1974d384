-- Send API: send definitions and their instances (each scheduled run of a definition).
-- Timestamps are Unix milliseconds (UTC); booleans are 0/1.

CREATE TABLE send_definitions (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    mid                    INTEGER NOT NULL REFERENCES accounts (mid),
    -- The ExternalKey of Search Definitions: a UUID chosen at creation.
    external_key           TEXT    NOT NULL,
    name                   TEXT    NOT NULL,
    description            TEXT    NOT NULL,
    email_id               INTEGER NOT NULL,
    send_classification_id INTEGER NOT NULL,
    -- JSON arrays of {"type","name","id"}, ids in their 18-character form.
    targets                TEXT    NOT NULL,
    exclusions             TEXT    NOT NULL,
    deduplicate_by_email   INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    modified_at            INTEGER NOT NULL,
    UNIQUE (mid, external_key)
);
CREATE INDEX send_definitions_mid ON send_definitions (mid, id);
-- Ids are strings of digits on the wire; eight digits look like Marketing Cloud's, and
-- the two ranges differ so that a definition id is never mistaken for an instance id.
INSERT INTO sqlite_sequence (name, seq) VALUES ('send_definitions', 10000000);

CREATE TABLE send_instances (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    mid                     INTEGER NOT NULL REFERENCES accounts (mid),
    -- No foreign key: a finished instance outlives its definition.
    definition_id           INTEGER NOT NULL,
    status                  TEXT    NOT NULL CHECK (status IN
        ('Scheduled', 'Sending', 'Complete', 'Cancel Pending', 'Canceled', 'Error', 'Paused')),
    -- What the instance sends, copied from the definition when it was scheduled, so
    -- that editing the definition later does not change it.
    email_id                INTEGER NOT NULL,
    send_classification_id  INTEGER NOT NULL,
    targets                 TEXT    NOT NULL,
    exclusions              TEXT    NOT NULL,
    deduplicate_by_email    INTEGER NOT NULL,
    all_recipients_opted_in INTEGER NOT NULL,
    scheduled_at            INTEGER NOT NULL,
    started_at              INTEGER,
    completed_at            INTEGER,
    sync_id                 INTEGER,
    job_id                  INTEGER,
    -- Why the instance is in Error.
    message                 TEXT,
    targeted                INTEGER NOT NULL DEFAULT 0,
    excluded                INTEGER NOT NULL DEFAULT 0,
    suppressed              INTEGER NOT NULL DEFAULT 0,
    duplicates              INTEGER NOT NULL DEFAULT 0,
    sent                    INTEGER NOT NULL DEFAULT 0,
    deferred                INTEGER NOT NULL DEFAULT 0,
    bounced                 INTEGER NOT NULL DEFAULT 0,
    failed                  INTEGER NOT NULL DEFAULT 0,
    created_at              INTEGER NOT NULL,
    modified_at             INTEGER NOT NULL,
    -- An instance is never scheduled before it exists.
    CHECK (scheduled_at >= created_at)
);
CREATE INDEX send_instances_mid ON send_instances (mid, id);
CREATE INDEX send_instances_mid_definition ON send_instances (mid, definition_id, id);
INSERT INTO sqlite_sequence (name, seq) VALUES ('send_instances', 70000000);
