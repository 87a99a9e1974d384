-- What the send engine needs on top of the Send API's tables: which phase a running
-- instance is in, who holds it, and whether a recipient's last attempt was recorded.

ALTER TABLE send_instances ADD COLUMN phase TEXT;
ALTER TABLE send_instances ADD COLUMN lease_owner TEXT;
ALTER TABLE send_instances ADD COLUMN lease_until BIGINT;
-- Target memberships folded into a record already written (one record, several targets).
ALTER TABLE send_instances ADD COLUMN union_duplicates BIGINT NOT NULL DEFAULT 0;
CREATE INDEX send_instances_due ON send_instances (status, scheduled_at);

ALTER TABLE recipients ADD COLUMN recorded_attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX recipients_lease ON recipients (instance_id, lease_until);
