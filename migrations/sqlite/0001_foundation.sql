-- Accounts (MIDs), installed packages, access tokens, token-endpoint throttling, settings.
-- Timestamps are Unix milliseconds (UTC) in both backends.

CREATE TABLE accounts (
    mid        INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
-- MIDs look like Marketing Cloud's: nine digits, starting at 100000001.
INSERT INTO sqlite_sequence (name, seq) VALUES ('accounts', 100000000);

CREATE TABLE packages (
    client_id   TEXT    PRIMARY KEY,
    mid         INTEGER NOT NULL REFERENCES accounts (mid),
    name        TEXT    NOT NULL,
    secret_hash TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX packages_mid ON packages (mid);

CREATE TABLE access_tokens (
    token_hash TEXT    PRIMARY KEY,
    client_id  TEXT    NOT NULL REFERENCES packages (client_id),
    mid        INTEGER NOT NULL REFERENCES accounts (mid),
    scopes     TEXT    NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

CREATE TABLE auth_failures (
    throttle_key TEXT    PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL
);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The first account exists from the first start.
INSERT INTO accounts (name, created_at) VALUES ('Herald', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
