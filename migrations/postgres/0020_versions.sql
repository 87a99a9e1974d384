-- Every object a client can update carries a version, incremented by each write: an update
-- names the version it read and is refused (409) when the object has moved on since.
ALTER TABLE assets ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sender_profiles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE delivery_profiles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE send_classifications ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE crm_records ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE crm_campaigns ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE crm_reports ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE send_definitions ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
