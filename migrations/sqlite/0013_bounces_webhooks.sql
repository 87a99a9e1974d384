-- A delivery profile may name the domain of its messages' VERP envelope senders
-- (NULL: HERALD_BOUNCE_DOMAIN, else the From domain).
ALTER TABLE delivery_profiles ADD COLUMN bounce_domain TEXT;

-- Event webhook subscriptions: per account, a URL, the event kinds it wants and the
-- secret its deliveries are signed with (kept usable: it signs, like the link key).
-- `done_through`: every event with an id up to it has been delivered or is not for this
-- subscription. One node at a time delivers a subscription (lease_owner, lease_until);
-- a failing receiver is retried at next_attempt_at, holding the cursor.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    mid             INTEGER NOT NULL,
    url             TEXT    NOT NULL,
    kinds           TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    done_through    INTEGER NOT NULL,
    delivered       INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX webhooks_mid ON webhooks (mid, id);
