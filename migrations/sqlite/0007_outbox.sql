-- The capture outbox: with no relay configured, messages are kept here instead of sent.
CREATE TABLE captured_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    mid          INTEGER NOT NULL,
    instance_id  INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    envelope_from TEXT   NOT NULL,
    rcpt_to      TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    raw          BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (recipient_id)
);
CREATE INDEX captured_messages_mid ON captured_messages (mid, id);
