using SitMessenger.Chat.Accounts;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// What the operator reads: the start, the clashes, the progress lines and the summary, on standard output.
/// Never a message text, password, hash or key; usernames and chat ids are what an operator acts on, so they appear.
/// </summary>
internal sealed class ImportReport(TextWriter output)
{
    private const int MaxListedSkips = 100;

    public TextWriter Output { get; } = output;

    public void Start(DjangoImportOptions options)
    {
        Write($"Importing from the Django installation{(options.DryRun ? " (dry run: nothing will be written)" : "")}: chat files under {options.MediaRoot}, "
            + (string.IsNullOrWhiteSpace(options.Redis)
                ? "no Redis given (messages still waiting in the original's cache are NOT read; give --redis if it holds any)"
                : $"cached messages from Redis database {options.RedisDatabase}")
            + $", {options.EffectiveParallelism} chat(s) at a time.");
    }

    public void Error(string message)
    {
        Output.WriteLine("error: " + message);
        Output.Flush();
    }

    public void Clashes(IReadOnlyList<AccountClash> clashes)
    {
        foreach (var clash in clashes)
        {
            Write($"error: username clash: Django user '{clash.Account.Username}' ({clash.Account.Id}): {clash.Reason} (existing account {clash.ExistingId}).");
        }

        Error($"{clashes.Count} username clash(es); nothing was written. Rename one account of each pair (here or in the original), then run again.");
    }

    public int Summary(bool dryRun, AccountPhase accounts, ImportProgress chats, IReadOnlyList<ChatSkip> skips)
    {
        var would = dryRun ? "would be " : "";
        Write(dryRun ? "Summary (dry run: nothing was written):" : "Summary:");
        Write($"  users:    {accounts.Users:N0} in Django: {accounts.Added:N0} {would}added, {accounts.AlreadyThere:N0} already there"
            + $"; {accounts.LookAlikes:N0} look-alike(s) of an older name kept without a skeleton, {accounts.Inactive:N0} inactive (imported, cannot log in)"
            + $", {accounts.UnsupportedHashes:N0} with a password hash other than pbkdf2_sha256 (imported, cannot log in with a password)");
        if (!dryRun)
        {
            Write($"  friends:  {accounts.FriendshipsAdded:N0} row(s) added");
        }

        Write($"  chats:    {chats.ChatsImported:N0} {would}imported, {chats.ChatsAlreadyThere:N0} already there, {chats.ChatsSkipped:N0} skipped");
        Write($"  messages: {chats.Messages:N0} {would}imported ({chats.MessagesFromCache:N0} from the cache, {chats.CacheDuplicates:N0} cached duplicate(s) of file lines dropped)");
        Write($"  rate:     {chats.MessagesPerSecond:N0} messages/s, {chats.MegabytesPerSecond:N2} MB/s of chat files ({chats.FileBytes / 1e6:N1} MB in {chats.Elapsed.TotalSeconds:N1} s)");
        foreach (var skip in skips.Take(MaxListedSkips))
        {
            Write($"  {(skip.IsError ? "error" : "skipped")}: chat {skip.ChatId}: {Describe(skip.Kind)}: {skip.Reason}");
        }

        if (skips.Count > MaxListedSkips)
        {
            Write($"  ... and {skips.Count - MaxListedSkips:N0} more (each is in the log)");
        }

        var failed = skips.Count(s => s.IsError);
        if (failed > 0)
        {
            Error($"{failed:N0} chat(s) could not be imported (listed above) and nothing of them was written. Fix each, then run the same command again: what is imported stays and is skipped.");
            return ImportExitCodes.ChatsFailed;
        }

        if (!dryRun && accounts.Added == 0 && accounts.FriendshipsAdded == 0 && chats.ChatsImported == 0)
        {
            Write("Nothing changed: everything was already imported.");
        }

        Output.Flush();
        return ImportExitCodes.Done;
    }

    private static string Describe(SkipKind kind) => kind switch
    {
        SkipKind.UnreadableFile => "unreadable file",
        SkipKind.WrongKey => "wrong key",
        SkipKind.CorruptToken => "corrupt token",
        SkipKind.CorruptContent => "corrupt content",
        SkipKind.CorruptCacheEntry => "corrupt cache entry",
        SkipKind.PasswordChat => "password chat",
        SkipKind.NoMembers => "no members",
        _ => kind.ToString(),
    };

    private void Write(string line) => Output.WriteLine(line);
}
