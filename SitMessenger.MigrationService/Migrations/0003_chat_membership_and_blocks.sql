-- Who created each chat: chats created per user per hour are bounded by counting these. Chats from before this
-- migration have no creator and count for no one.
ALTER TABLE chats ADD COLUMN created_by uuid NULL REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX chats_created_by ON chats (created_by, created) WHERE created_by IS NOT NULL;

-- A user's chat list is paged by (updated, id), newest first.
CREATE INDEX chats_updated_id ON chats (updated DESC, id DESC);

-- A blocked user cannot put the blocker into a chat.
CREATE TABLE user_blocks (
    id         uuid PRIMARY KEY,
    blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created    timestamptz NOT NULL,
    UNIQUE (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX user_blocks_blocked ON user_blocks (blocked_id);
