-- character: the catalog (loaded from the shipped characters.json by the seed
-- phase) and who owns what. my: profiles and the points ledger.
-- Every per-user row references auth.users with ON DELETE CASCADE, so deleting
-- a user erases the account in every schema in one statement.

CREATE TABLE character.characters (
    code       text PRIMARY KEY CHECK (code ~ '^char-[a-z]+$'),
    name       text NOT NULL,
    category   text UNIQUE,          -- the recyclable middle category; NULL for the mascot
    items      text[] NOT NULL,
    tip        text NOT NULL,
    is_default boolean NOT NULL DEFAULT false,
    position   int NOT NULL
);

CREATE TABLE character.ownerships (
    user_id        uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    character_code text NOT NULL REFERENCES character.characters (code),
    acquired_at    timestamptz NOT NULL DEFAULT now(),
    source         text NOT NULL CHECK (source IN ('onboarding', 'scan')),
    source_id      text NOT NULL,
    PRIMARY KEY (user_id, character_code)   -- each character is owned once
);

CREATE TABLE my.profiles (
    user_id      uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    nickname     text NOT NULL CHECK (char_length(nickname) BETWEEN 2 AND 20),
    phone_number text CHECK (phone_number ~ '^010-[0-9]{4}-[0-9]{4}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Append-only: rows are inserted, never updated or deleted (but by the
-- account's own deletion). Replaying an award hits the unique key and is a no-op.
CREATE TABLE my.point_ledger (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    amount     int NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('scan_correct', 'scan', 'character')),
    source_id  text NOT NULL CHECK (char_length(source_id) BETWEEN 1 AND 200),
    note       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, reason, source_id)
);
CREATE INDEX point_ledger_user_idx ON my.point_ledger (user_id, id DESC);

-- The running totals, updated in the same transaction as each ledger insert
-- (the row lock also serializes one user's awards, for the daily cap).
CREATE TABLE my.point_balances (
    user_id  uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    balance  int NOT NULL DEFAULT 0,
    lifetime int NOT NULL DEFAULT 0 CHECK (lifetime >= 0)
);

CREATE OR REPLACE FUNCTION my.ledger_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'my.point_ledger is append-only';
END $$;
CREATE TRIGGER point_ledger_append_only BEFORE UPDATE ON my.point_ledger
    FOR EACH ROW EXECUTE FUNCTION my.ledger_is_append_only();
