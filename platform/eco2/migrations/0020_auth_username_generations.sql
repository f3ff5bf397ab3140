-- auth: the name a provider gives a user, and refresh token generations.

-- username: the provider's name for the user (Google's name, Kakao's
-- nickname, Naver's name, else its nickname), refreshed at every sign-in;
-- /user/me shows it as the original backend did.
ALTER TABLE auth.users ADD COLUMN username text CHECK (char_length(username) <= 64);

-- Generations keep a family one chain even with a grace window for
-- concurrent refreshes: a token of generation g rotates into g + 1 and moves
-- the family's head to g + 1; a token whose generation is behind the head (a
-- sibling whose twin rotated on) or a used token outside the grace window is
-- a reuse and revokes the family (eco2.auth.sessions).
ALTER TABLE auth.refresh_families ADD COLUMN generation int NOT NULL DEFAULT 0 CHECK (generation >= 0);
ALTER TABLE auth.refresh_tokens ADD COLUMN generation int NOT NULL DEFAULT 0 CHECK (generation >= 0);
