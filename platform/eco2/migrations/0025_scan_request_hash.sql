-- scan: what a request with an Idempotency-Key asked for (a SHA-256 of its
-- photo, or image_url, and its options), kept with the scan it made. A retry
-- must ask the same: the same key with another photo is refused (422), not
-- answered with the first photo's scan. NULL on scans made before it: replayed.
ALTER TABLE scan.scans ADD COLUMN request_hash text;
