-- events_instance serves one query, a send's engagement counts (opens, clicks,
-- unsubscribes, bounces), which never reads a `sent` event: the largest kind by far, one
-- per message delivered. Kept out of the index, a delivered message costs one index entry
-- fewer. The predicate is written as the query writes it, so that SQLite (which matches
-- a partial index's terms literally) plans the query through it as PostgreSQL does.
DROP INDEX events_instance;
CREATE INDEX events_instance ON events (instance_id, kind)
    WHERE kind IN ('opened', 'clicked', 'unsubscribed', 'bounced');
