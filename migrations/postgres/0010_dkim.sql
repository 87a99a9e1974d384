-- DKIM signing keys, named by their DNS record: `{selector}._domainkey.{domain}`.
CREATE TABLE dkim_keys (
    id          TEXT   PRIMARY KEY,
    domain      TEXT   NOT NULL,
    selector    TEXT   NOT NULL,
    algorithm   TEXT   NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
    private_pem TEXT   NOT NULL,
    dns_record  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX dkim_keys_domain ON dkim_keys (domain, created_at);
