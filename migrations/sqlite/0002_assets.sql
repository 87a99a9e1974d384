-- Emails as Content Builder assets. Ids are one global sequence starting at 10001; a
-- customer key is unique within its account. Timestamps are Unix milliseconds (UTC).

CREATE TABLE assets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    mid          INTEGER NOT NULL REFERENCES accounts (mid),
    customer_key TEXT    NOT NULL,
    object_id    TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    -- 207 templatebasedemail, 208 htmlemail, 209 textonlyemail
    asset_type   INTEGER NOT NULL,
    -- 1 Draft, 2 Published
    status       INTEGER NOT NULL,
    subject      TEXT    NOT NULL,
    preheader    TEXT    NOT NULL,
    html_content TEXT,
    text_content TEXT,
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    UNIQUE (mid, customer_key)
);
INSERT INTO sqlite_sequence (name, seq) VALUES ('assets', 10000);
