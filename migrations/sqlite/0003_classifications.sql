-- Sender profiles, delivery profiles and send classifications (send-api.md section 4), and
-- the four defaults every account has. Booleans are 0/1; timestamps Unix milliseconds.
-- A classification's profiles belong to its account: the foreign keys include the mid.

CREATE TABLE sender_profiles (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    mid                   INTEGER NOT NULL REFERENCES accounts (mid),
    object_id             TEXT    NOT NULL UNIQUE,
    customer_key          TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    from_name             TEXT    NOT NULL,
    from_address          TEXT    NOT NULL,
    reply_to_address      TEXT,
    reply_to_display_name TEXT,
    is_default            INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    modified_at           INTEGER NOT NULL,
    UNIQUE (mid, customer_key),
    UNIQUE (mid, id)
);

CREATE TABLE delivery_profiles (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    mid              INTEGER NOT NULL REFERENCES accounts (mid),
    object_id        TEXT    NOT NULL UNIQUE,
    customer_key     TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    header_html      TEXT    NOT NULL,
    footer_html      TEXT    NOT NULL,
    footer_text      TEXT    NOT NULL,
    street           TEXT    NOT NULL,
    city             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    postal_code      TEXT    NOT NULL,
    country          TEXT    NOT NULL,
    -- SMTP relay URLs, passwords included, one per line; '' means the server's relay.
    relays           TEXT    NOT NULL,
    dkim_key_id      TEXT,
    tracking_enabled INTEGER NOT NULL,
    is_default       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    modified_at      INTEGER NOT NULL,
    UNIQUE (mid, customer_key),
    UNIQUE (mid, id)
);

CREATE TABLE send_classifications (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    mid                 INTEGER NOT NULL REFERENCES accounts (mid),
    object_id           TEXT    NOT NULL UNIQUE,
    customer_key        TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    classification_type TEXT    NOT NULL CHECK (classification_type IN ('Marketing', 'Operational')),
    sender_profile_id   INTEGER NOT NULL,
    delivery_profile_id INTEGER NOT NULL,
    -- HonorPublicationListOptOutsForTransactionalSends.
    honor_list_opt_outs INTEGER NOT NULL,
    is_default          INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    modified_at         INTEGER NOT NULL,
    UNIQUE (mid, customer_key),
    UNIQUE (mid, id),
    FOREIGN KEY (mid, sender_profile_id) REFERENCES sender_profiles (mid, id),
    FOREIGN KEY (mid, delivery_profile_id) REFERENCES delivery_profiles (mid, id)
);
CREATE INDEX send_classifications_sender_profile ON send_classifications (sender_profile_id);
CREATE INDEX send_classifications_delivery_profile ON send_classifications (delivery_profile_id);

-- The defaults of the accounts that exist already. New accounts get theirs from
-- AccountStore::create_account; the texts are those of crates/store/src/classifications/
-- defaults.rs (a contract test compares them). object_id is a random UUID (version 4).

INSERT INTO sender_profiles (mid, object_id, customer_key, name, description, from_name,
                             from_address, is_default, created_at, modified_at)
SELECT mid,
       lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
             || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2)
             || '-' || hex(randomblob(6))),
       'Default', 'Default',
       'The account''s default sender. Update fromAddress to an address your relay may send from.',
       replace(replace(replace(replace(name, char(13), ' '), char(10), ' '), '%%', '%'), '%%', '%'),
       'no-reply@example.com', 1,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM accounts;

INSERT INTO delivery_profiles (mid, object_id, customer_key, name, description, header_html,
                               footer_html, footer_text, street, city, state, postal_code,
                               country, relays, tracking_enabled, is_default, created_at,
                               modified_at)
SELECT mid,
       lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
             || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2)
             || '-' || hex(randomblob(6))),
       'Default', 'Default',
       'The account''s default delivery: the server''s relay, no header or footer.',
       '', '', '', '', '', '', '', '', '', 1, 1,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM accounts;

INSERT INTO send_classifications (mid, object_id, customer_key, name, description,
                                  classification_type, sender_profile_id, delivery_profile_id,
                                  honor_list_opt_outs, is_default, created_at, modified_at)
SELECT a.mid,
       lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
             || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2)
             || '-' || hex(randomblob(6))),
       d.customer_key, d.customer_key, d.description, d.classification_type, s.id, p.id, 0, 1,
       CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM accounts a
JOIN sender_profiles s ON s.mid = a.mid AND s.is_default = 1
JOIN delivery_profiles p ON p.mid = a.mid AND p.is_default = 1
CROSS JOIN (
    SELECT 1 AS position, 'Default Commercial' AS customer_key, 'Marketing' AS classification_type,
           'Commercial sends: opted-out, unsubscribed and hard-bounced addresses are skipped.' AS description
    UNION ALL
    SELECT 2, 'Default Transactional', 'Operational',
           'Transactional sends: unsubscribes do not apply; hard-bounced addresses are skipped.'
) d
ORDER BY a.mid, d.position;
