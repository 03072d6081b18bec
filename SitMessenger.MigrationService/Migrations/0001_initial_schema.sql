-- Accounts. Passwords are PBKDF2 hashes (ASP.NET Core Identity's format), never plaintext.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    email         text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    created       timestamptz NOT NULL
);

CREATE TABLE friends (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    friend_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, friend_id)
);

-- Refresh tokens are kept by id (jti) only; a family links the rotations of one login for reuse detection.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires     timestamptz NOT NULL,
    revoked     timestamptz NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires);

-- A revoked family (logout, or a refresh token used twice) also voids the access tokens issued to it.
-- Redis holds the same set for fast checks; this table is the record it is rebuilt from.
CREATE TABLE revoked_token_families (
    family_id uuid PRIMARY KEY,
    revoked   timestamptz NOT NULL
);

-- A chat's data key is stored only wrapped under a master key of the key ring (key_id names which).
CREATE TABLE chats (
    id          uuid PRIMARY KEY,
    created     timestamptz NOT NULL,
    updated     timestamptz NOT NULL,
    key_id      text NOT NULL,
    wrapped_key bytea NOT NULL,
    -- Highest message sequence number given out, and the highest moved into segment files.
    last_seq    bigint NOT NULL DEFAULT 0,
    flushed_seq bigint NOT NULL DEFAULT 0
);
CREATE INDEX chats_updated ON chats (updated DESC);

CREATE TABLE chat_members (
    chat_id uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (user_id);

-- Acknowledged messages not yet moved into a segment. The body (time, sender, text) is one Fernet token.
CREATE TABLE pending_messages (
    chat_id    uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    created    timestamptz NOT NULL,
    ciphertext bytea NOT NULL,
    PRIMARY KEY (chat_id, seq)
);
CREATE INDEX pending_messages_created ON pending_messages (created);

-- Immutable segment files holding a chat's flushed messages [first_seq, last_seq].
CREATE TABLE chat_segments (
    id          uuid PRIMARY KEY,
    chat_id     uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    first_seq   bigint NOT NULL,
    last_seq    bigint NOT NULL,
    location    text NOT NULL,
    key_id      text NOT NULL,
    sha256      bytea NOT NULL,
    created     timestamptz NOT NULL,
    UNIQUE (chat_id, first_seq)
);
