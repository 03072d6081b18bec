-- A chat's members change rarely but are shown with every PATCH answer. Each change of chat_members moves the chat's
-- members_version, so an Api that holds the members of a version reads them again only when it moved.
-- A trigger, not each statement that touches chat_members, so no path (create, leave, import, cascade) can forget it.
ALTER TABLE chats ADD COLUMN members_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION chat_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chats SET members_version = members_version + 1
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.chat_id ELSE NEW.chat_id END;
    IF TG_OP = 'UPDATE' AND OLD.chat_id <> NEW.chat_id THEN
        UPDATE chats SET members_version = members_version + 1 WHERE id = OLD.chat_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER chat_members_version AFTER INSERT OR UPDATE OR DELETE ON chat_members
    FOR EACH ROW EXECUTE FUNCTION chat_members_changed();
