-- auth: users, their social accounts, and refresh token families.

CREATE TABLE auth.users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    nickname        text CHECK (char_length(nickname) <= 64),
    email           text CHECK (char_length(email) <= 320),
    profile_image_url text CHECK (char_length(profile_image_url) <= 1024),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);

-- One row per (provider, provider's user id): the same id is the same user.
CREATE TABLE auth.social_accounts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    provider         text NOT NULL CHECK (provider IN ('google', 'kakao', 'naver', 'dev')),
    provider_user_id text NOT NULL CHECK (char_length(provider_user_id) BETWEEN 1 AND 255),
    email            text CHECK (char_length(email) <= 320),
    email_verified   boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_login_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_user_id)
);
CREATE INDEX social_accounts_user_idx ON auth.social_accounts (user_id);
-- Linking a new provider to an existing user goes by verified email only.
CREATE INDEX social_accounts_verified_email_idx
    ON auth.social_accounts (lower(email)) WHERE email_verified;

-- A family is one sign-in on one device: every refresh token rotated from the
-- first one belongs to it, and a reused token revokes the whole family.
CREATE TABLE auth.refresh_families (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'reuse', 'account_deleted'))
);
CREATE INDEX refresh_families_user_idx ON auth.refresh_families (user_id);

-- Refresh tokens are opaque; only their SHA-256 is stored. access_jti and
-- access_exp name the access token issued with it, so that revoking a family
-- can also deny the access tokens it handed out.
CREATE TABLE auth.refresh_tokens (
    token_hash  bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    family_id   uuid NOT NULL REFERENCES auth.refresh_families (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    access_jti  text NOT NULL,
    access_exp  timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON auth.refresh_tokens (family_id);
