-- The recipients still waiting for an attempt, per instance, in the order they fall due:
-- what every delivery claim reads. Partial, so it holds only the queue, not the history.
CREATE INDEX recipients_pending ON recipients (instance_id, next_attempt_at, id)
    WHERE status IN ('queued', 'deferred');
