-- recipients_lease (instance_id, lease_until) served the settler's count of the recipients
-- in flight, which a cancel no longer needs (it cancels those no one holds and waits for
-- the rest to leave the queue). Without it a claim changes no indexed column, so on
-- PostgreSQL it can be a heap-only update instead of an entry in every index.
DROP INDEX recipients_lease;
-- Room on every page for a claim's new row version, which a heap-only update needs.
ALTER TABLE recipients SET (fillfactor = 60);
