-- Every send moves its chat's "updated", so every index holding that column gets a new entry per message.
-- chats_updated_id (0003) serves the chat list and its paging; chats_updated only doubled the send's index work.
DROP INDEX IF EXISTS chats_updated;
