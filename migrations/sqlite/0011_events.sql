-- The event log: one append-only row per thing that happened to a message after it was
-- queued (sent, bounced, opened, clicked, unsubscribed). Individual results, instance
-- statistics and event webhooks all read it. `detail` is a JSON object or NULL.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    mid          INTEGER NOT NULL,
    instance_id  INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    detail       TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX events_mid ON events (mid, id);
CREATE INDEX events_recipient ON events (recipient_id, kind);
CREATE INDEX events_instance ON events (instance_id, kind);
