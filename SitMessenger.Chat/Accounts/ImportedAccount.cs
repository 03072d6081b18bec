namespace SitMessenger.Chat.Accounts;

/// <summary>An account as it comes over from another installation, its password hash kept as that one wrote it.</summary>
/// <param name="Skeleton">Its look-alike skeleton, or null for a younger look-alike of another imported account.</param>
public sealed record ImportedAccount(Guid Id, string Username, string Email, string PasswordHash, DateTime Created, string? Skeleton);

/// <summary>Why an imported account cannot be written: an existing, different account has its name or a look-alike of it.</summary>
public sealed record AccountClash(ImportedAccount Account, Guid ExistingId, string Reason);

/// <summary>The clashes of a set of imported accounts, and how many of them are there already (an earlier run).</summary>
public sealed record AccountCheck(IReadOnlyList<AccountClash> Clashes, int AlreadyThere);

/// <summary>What writing the accounts did: rows new this time (0 and 0 when everything was already there).</summary>
public sealed record AccountImport(int UsersAdded, int UsersAlreadyThere, int FriendshipsAdded);
