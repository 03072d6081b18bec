-- Usernames are unique by their look-alike skeleton (SitMessenger.Chat.Accounts.UsernameSkeleton): NFKC, case-folded,
-- confusables mapped. Computed in C#, so the column starts empty: the migrator fills it in for existing accounts
-- right after this script, oldest first. Existing look-alike duplicates, if any, keep NULL there (and keep working,
-- logging in by their exact name); only new and not-null skeletons are held unique, so this cannot fail on old data.
ALTER TABLE users ADD COLUMN username_skeleton text;

CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton) WHERE username_skeleton IS NOT NULL;
