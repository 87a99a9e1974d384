-- Unsubscribing is idempotent: at most one `unsubscribed` event per message (recipient),
-- however often or concurrently its link is used.
CREATE UNIQUE INDEX events_one_unsubscribe ON events (recipient_id) WHERE kind = 'unsubscribed';
