-- recipients_due (status, next_attempt_at) served the first claims; claims and the queue
-- count now read the partial index recipients_pending, and every outcome and claim paid
-- to keep this one up to date.
DROP INDEX recipients_due;
