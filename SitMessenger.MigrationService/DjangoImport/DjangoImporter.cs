using System.Collections.Concurrent;
using System.Security.Cryptography;
using Npgsql;
using SitMessenger.Chat.Accounts;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Storage;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>The process exit codes of <c>import-django</c>.</summary>
internal static class ImportExitCodes
{
    public const int Done = 0;
    public const int ChatsFailed = 1;
    public const int BadSetup = 2;
    public const int UsernameClash = 3;
    public const int Interrupted = 130;
}

internal sealed record ChatSkip(Guid ChatId, SkipKind Kind, string Reason, bool IsError);

/// <summary>What the accounts phase did or, in a dry run, would do.</summary>
internal sealed record AccountPhase(int Users, int Added, int AlreadyThere, int FriendshipsAdded, int LookAlikes, int Inactive, int UnsupportedHashes);

/// <summary>
/// Moves a Django installation in: accounts and friends first (all in one transaction, or none when a name clashes),
/// then each chat in a transaction of its own (the whole chat or nothing), re-encrypted under a new data key of ours.
/// A chat already there is skipped, so a second run changes nothing and a run killed midway continues where it stopped.
/// </summary>
internal sealed partial class DjangoImporter(
    DjangoImportOptions options,
    DjangoSource source,
    DjangoCache? cache,
    NpgsqlDataSource target,
    UserStore accounts,
    ChatStore chats,
    ChatMessageCipher cipher,
    ImportReport report,
    ILogger<DjangoImporter> logger)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (!await TargetHasSchemaAsync(cancellationToken))
        {
            report.Error("The target database has no SIT Messenger schema yet: run the migrator first (dotnet run --project SitMessenger.MigrationService), then import.");
            return ImportExitCodes.BadSetup;
        }

        report.Start(options);
        var accountPhase = await ImportAccountsAsync(cancellationToken);
        if (accountPhase is null)
        {
            return ImportExitCodes.UsernameClash;
        }

        var all = await source.ChatsAsync(cancellationToken);
        var existing = new HashSet<Guid>();
        foreach (var chunk in all.Select(c => c.Id).Chunk(10_000))
        {
            existing.UnionWith(await chats.FindExistingAsync(chunk, cancellationToken));
        }

        var skips = new ConcurrentBag<ChatSkip>();
        var progress = new ImportProgress(all.Count, report.Output);
        progress.AlreadyThere(all.Count(c => existing.Contains(c.Id)));
        var reader = new DjangoChatReader(options.MediaRoot, cache);
        await using (progress)
        {
            progress.Start();
            try
            {
                await Parallel.ForEachAsync(
                    all.Where(c => !existing.Contains(c.Id)),
                    new ParallelOptions { MaxDegreeOfParallelism = options.EffectiveParallelism, CancellationToken = cancellationToken },
                    async (chat, token) => await ImportChatAsync(chat, reader, progress, skips, token));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                report.Error($"Interrupted after {progress.ChatsImported:N0} chat(s) of this run. Each finished chat is complete; run the same command again to continue.");
                return ImportExitCodes.Interrupted;
            }
        }

        return report.Summary(options.DryRun, accountPhase, progress, [.. skips.OrderBy(s => s.ChatId)]);
    }

    private async Task<AccountPhase?> ImportAccountsAsync(CancellationToken cancellationToken)
    {
        var users = await source.UsersAsync(cancellationToken);
        var friendships = await source.FriendshipsAsync(cancellationToken);
        var skeletons = new HashSet<string>(StringComparer.Ordinal);
        int lookAlikes = 0, inactive = 0, unsupported = 0;
        var imported = new List<ImportedAccount>(users.Count);
        foreach (var user in users)
        {
            // Django's own usernames are unique only as typed: of look-alikes the oldest holds the skeleton and the
            // younger keep working without one, as 0002_username_skeletons.sql treats accounts that were here before.
            var skeleton = UsernameSkeleton.Of(user.Username);
            var kept = skeletons.Add(skeleton) ? skeleton : null;
            lookAlikes += kept is null ? 1 : 0;

            // An inactive account could not log in to the original; "!" (Django's mark of an unusable password) keeps
            // it so here, and keeps the old hash behind it should an operator reactivate the account by hand.
            var hash = user.PasswordHash;
            if (!user.IsActive)
            {
                inactive++;
                hash = "!" + hash;
            }
            else if (!DjangoPasswordHash.IsWellFormed(hash))
            {
                unsupported++;
            }

            imported.Add(new ImportedAccount(user.Id, user.Username, user.Email, hash, user.DateJoined, kept));
        }

        var check = await accounts.CheckImportedAsync(imported, cancellationToken);
        if (check.Clashes.Count > 0)
        {
            report.Clashes(check.Clashes);
            return null;
        }

        if (options.DryRun)
        {
            return new AccountPhase(users.Count, users.Count - check.AlreadyThere, check.AlreadyThere, 0, lookAlikes, inactive, unsupported);
        }

        var written = await accounts.WriteImportedAsync(imported, friendships, cancellationToken);
        if (written is null)
        {
            report.Error("An account with one of the imported usernames was created while the import ran; nothing was written. Stop the Api's registrations and run again.");
            return null;
        }

        LogAccounts(logger, written.UsersAdded, written.UsersAlreadyThere, written.FriendshipsAdded);
        return new AccountPhase(users.Count, written.UsersAdded, written.UsersAlreadyThere, written.FriendshipsAdded, lookAlikes, inactive, unsupported);
    }

    private async Task ImportChatAsync(DjangoChat chat, DjangoChatReader reader, ImportProgress progress, ConcurrentBag<ChatSkip> skips, CancellationToken cancellationToken)
    {
        DjangoChatContent content;
        try
        {
            content = await reader.ReadAsync(chat, cancellationToken);
        }
        catch (ChatSkippedException skipped)
        {
            skips.Add(new ChatSkip(chat.Id, skipped.Kind, skipped.Message, skipped.IsError));
            progress.Skipped();
            LogChatSkipped(logger, chat.Id, skipped.Kind, skipped.Message);
            return;
        }

        if (options.DryRun)
        {
            progress.Imported(content);
            return;
        }

        var dataKey = cipher.KeyRing.NewDataKey();
        try
        {
            var messages = content.Messages.Select(m => new ImportedMessage(m.Datetime, cipher.Encrypt(dataKey, m))).ToList();
            // Django's updated moved only at flushes; the chat list orders by the last message, cached ones included.
            var updated = content.Messages.Count > 0 && content.Messages[^1].Datetime > chat.Updated ? content.Messages[^1].Datetime : chat.Updated;
            var imported = new ImportedChat(chat.Id, chat.Created, updated, cipher.KeyRing.Wrap(dataKey), chat.Owners, messages);
            if (await chats.WriteImportedAsync(imported, cancellationToken))
            {
                progress.Imported(content);
            }
            else
            {
                progress.AlreadyThere();
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private async Task<bool> TargetHasSchemaAsync(CancellationToken cancellationToken)
    {
        await using var command = target.CreateCommand(
            """
            SELECT to_regclass('public.pending_messages') IS NOT NULL
               AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'username_skeleton')
            """);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Accounts imported: {Added} added, {AlreadyThere} already there, {Friendships} friendship row(s) added")]
    private static partial void LogAccounts(ILogger logger, int added, int alreadyThere, int friendships);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat {ChatId} not imported ({Kind}): {Reason}")]
    private static partial void LogChatSkipped(ILogger logger, Guid chatId, SkipKind kind, string reason);
}
