-- scan: the answer a scan gave, kept with it. GET /api/v1/scan/task/{id} reads
-- it back for its owner, and a repeated Idempotency-Key gets it again: the
-- first response for a user and key is the response to every retry of it.
ALTER TABLE scan.scans
    ADD COLUMN answer          jsonb,
    ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX scans_idempotency_idx ON scan.scans (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
