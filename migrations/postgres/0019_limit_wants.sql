-- A node that finds all of a domain's concurrency slots held says so here, until the
-- time it gives (and again while it still waits). Nodes give back slots they have held
-- long enough only while another node wants them, so an uncontended domain costs no
-- slot churn (see ARCHITECTURE.md, "Cluster").
CREATE TABLE limit_wants (
    name  TEXT    NOT NULL,
    owner TEXT    NOT NULL,
    until BIGINT NOT NULL,
    PRIMARY KEY (name, owner)
);
