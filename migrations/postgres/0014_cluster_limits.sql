-- Delivery limits shared by every node of a cluster (see ARCHITECTURE.md, "Cluster").

-- A token bucket per rate limit (`relay:<hosts>`, `domain:<domain>`), in thousandths of
-- a token so that both backends refill it with integer arithmetic. `granted` is what the
-- last grant gave (read back by the statement that wrote it).
CREATE TABLE limit_buckets (
    name         TEXT    PRIMARY KEY,
    milli_tokens BIGINT  NOT NULL,
    refilled_at  BIGINT  NOT NULL,
    granted      BIGINT  NOT NULL DEFAULT 0
);

-- One row per concurrency slot held (`domain:<domain>`, slot number below the limit),
-- leased by a node: a slot whose lease ran out may be taken by another node.
CREATE TABLE limit_slots (
    name        TEXT    NOT NULL,
    slot        BIGINT  NOT NULL,
    owner       TEXT    NOT NULL,
    lease_until BIGINT  NOT NULL,
    PRIMARY KEY (name, slot)
);
CREATE INDEX limit_slots_owner ON limit_slots (owner);
