-- A send that carries a client message id (Idempotency-Key on REST, client_message_id on the hub) records it here in
-- the same statement that stores the message: a repeat finds the first send's seq and stores nothing new, whichever
-- Api replica it reaches. The Worker's token cleanup deletes keys older than two days (the promise is 24 h).
CREATE TABLE message_idempotency (
    chat_id   uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    sender_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key       text NOT NULL,
    seq       bigint NOT NULL,
    created   timestamptz NOT NULL,
    PRIMARY KEY (chat_id, sender_id, key)
);
CREATE INDEX message_idempotency_created ON message_idempotency (created);

-- How far each member has read each chat (the highest seq they marked read; a send marks the sender's own message).
-- No row means "read up to the chat's first line", so a new chat has nothing unread.
CREATE TABLE chat_read_state (
    chat_id  uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_seq bigint NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
