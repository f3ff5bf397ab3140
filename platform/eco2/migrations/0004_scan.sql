-- scan: one row per completed scan, the user's history. The scan function
-- writes it in the same transaction as the reward; my and character read it.
CREATE TABLE scan.scans (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    major_category  text NOT NULL,
    middle_category text,
    item            text,
    recyclable      boolean NOT NULL,
    correct         boolean NOT NULL,             -- no preparation step missing
    missing_steps   text[] NOT NULL DEFAULT '{}', -- step ids from the knowledge base
    points          int NOT NULL DEFAULT 0,
    character_code  text REFERENCES character.characters (code)
);
CREATE INDEX scans_user_idx ON scan.scans (user_id, created_at DESC, id DESC);
