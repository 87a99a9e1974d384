-- The built-in CRM: Contacts and Leads (one table, an object column), their custom
-- fields, campaigns with members, and reports (saved filters).
-- Ids are Salesforce ids in their 18-character form, minted from global counters, so
-- an id alone names a record; every row still carries its account's mid.
-- *_key columns hold text lower-cased by Herald, for case-insensitive comparisons that
-- behave the same on both backends. Booleans are 0/1.
-- Ids and keys use the "C" collation: byte order, as SQLite compares, so keyset paging
-- and lessThan/greaterThan agree across backends.

CREATE TABLE crm_id_counters (
    key_prefix TEXT   PRIMARY KEY,
    last_value BIGINT NOT NULL
);
INSERT INTO crm_id_counters (key_prefix, last_value)
VALUES ('003', 0), ('00Q', 0), ('701', 0), ('00O', 0);

CREATE TABLE crm_records (
    id             TEXT COLLATE "C" PRIMARY KEY,
    mid            BIGINT NOT NULL REFERENCES accounts (mid),
    object         TEXT   NOT NULL CHECK (object IN ('Contact', 'Lead')),
    email          TEXT   NOT NULL,
    email_key      TEXT COLLATE "C" NOT NULL,
    first_name     TEXT,
    first_name_key TEXT COLLATE "C",
    last_name      TEXT,
    last_name_key  TEXT COLLATE "C",
    has_opted_out  BIGINT NOT NULL DEFAULT 0,
    external_id    TEXT COLLATE "C",
    external_id_key TEXT COLLATE "C",
    created_at     BIGINT NOT NULL,
    modified_at    BIGINT NOT NULL
);
CREATE INDEX crm_records_object ON crm_records (mid, object, id);
CREATE INDEX crm_records_email ON crm_records (mid, object, email_key);
-- ExternalIds are unique per account and object, compared without regard to case.
CREATE UNIQUE INDEX crm_records_external_id ON crm_records (mid, object, external_id_key);

-- The custom fields each account's objects have; a field exists once a record used it.
CREATE TABLE crm_fields (
    mid        BIGINT NOT NULL REFERENCES accounts (mid),
    object     TEXT   NOT NULL,
    name_key   TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (mid, object, name_key)
);

-- One row per non-empty custom field value; value_number is set when the value is a number.
CREATE TABLE crm_field_values (
    record_id    TEXT COLLATE "C" NOT NULL REFERENCES crm_records (id) ON DELETE CASCADE,
    field        TEXT   NOT NULL,
    mid          BIGINT NOT NULL,
    value        TEXT   NOT NULL,
    value_key    TEXT COLLATE "C" NOT NULL,
    value_number DOUBLE PRECISION,
    PRIMARY KEY (record_id, field)
);
CREATE INDEX crm_field_values_lookup ON crm_field_values (mid, field, value_key);

CREATE TABLE crm_campaigns (
    id          TEXT COLLATE "C" PRIMARY KEY,
    mid         BIGINT NOT NULL REFERENCES accounts (mid),
    name        TEXT   NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX crm_campaigns_mid ON crm_campaigns (mid, id);

CREATE TABLE crm_campaign_members (
    campaign_id TEXT COLLATE "C" NOT NULL REFERENCES crm_campaigns (id) ON DELETE CASCADE,
    record_id   TEXT COLLATE "C" NOT NULL REFERENCES crm_records (id) ON DELETE CASCADE,
    mid         BIGINT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, record_id)
);
CREATE INDEX crm_campaign_members_record ON crm_campaign_members (record_id);

CREATE TABLE crm_reports (
    id          TEXT COLLATE "C" PRIMARY KEY,
    mid         BIGINT NOT NULL REFERENCES accounts (mid),
    name        TEXT   NOT NULL,
    object      TEXT   NOT NULL CHECK (object IN ('Contact', 'Lead')),
    logic       TEXT   NOT NULL CHECK (logic IN ('and', 'or')),
    created_at  BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);
CREATE INDEX crm_reports_mid ON crm_reports (mid, id);

CREATE TABLE crm_report_conditions (
    report_id TEXT COLLATE "C" NOT NULL REFERENCES crm_reports (id) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    field     TEXT   NOT NULL,
    operator  TEXT   NOT NULL,
    value     TEXT   NOT NULL,
    PRIMARY KEY (report_id, position)
);
