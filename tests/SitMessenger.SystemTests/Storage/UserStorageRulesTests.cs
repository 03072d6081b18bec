using Npgsql;
using SitMessenger.Chat.Accounts;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Storage;

/// <summary>
/// The rules of the accounts' one owner (<see cref="UserStore"/>, used by the Api, the migrator and the Django import)
/// on the suite's real PostgreSQL: look-alike names, the password hash that is replaced only while unchanged, and
/// imported accounts that go in once, whole or not at all. Hashes here are placeholders: the store never reads them.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class UserStorageRulesTests(SitMessengerAppFixture fixture) : IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;
    private UserStore _users = null!;

    // Letters only, so a case change or a look-alike letter changes exactly one thing.
    private readonly string _tag = new([.. Guid.NewGuid().ToString("N").Select(c => (char)('a' + (c % 26)))]);

    public async Task InitializeAsync()
    {
        _database = NpgsqlDataSource.Create(await fixture.App.GetConnectionStringAsync("sitdb"));
        _users = new UserStore(_database);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_name_taken_as_typed_in_another_case_or_by_a_look_alike_creates_nothing()
    {
        var original = Account($"rule_alice_{_tag}");
        Assert.True(await _users.CreateAsync(original, "!placeholder", DateTimeOffset.UtcNow, default));

        foreach (var name in new[] { $"rule_alice_{_tag}", $"rule_alice_{_tag}".ToUpperInvariant(), $"rule_\u0430lice_{_tag}" })
        {
            var lookAlike = Account(name);
            Assert.False(await _users.CreateAsync(lookAlike, "!placeholder", DateTimeOffset.UtcNow, default), name);
            Assert.Null(await _users.FindAsync(lookAlike.Id, default));
        }

        Assert.Equal(original, (await _users.FindCredentialsAsync(original.Username, default))?.Account);
        Assert.True(await _users.ExistsAsync(original.Id, default));
        Assert.Equal([Guid.Empty], await _users.FindUnknownAsync([original.Id, Guid.Empty], default));
    }

    [Fact]
    public async Task A_password_hash_is_replaced_only_while_it_is_still_the_one_verified()
    {
        var account = Account($"rule_rehash_{_tag}");
        Assert.True(await _users.CreateAsync(account, "hash-one", DateTimeOffset.UtcNow, default));

        // A login that verified an older hash (the password changed meanwhile) must not overwrite the new one.
        Assert.False(await _users.ReplacePasswordHashAsync(account.Id, "hash-zero", "hash-from-a-stale-login", default));
        Assert.Equal("hash-one", (await _users.FindCredentialsAsync(account.Username, default))?.PasswordHash);

        Assert.True(await _users.ReplacePasswordHashAsync(account.Id, "hash-one", "hash-two", default));
        Assert.Equal("hash-two", (await _users.FindCredentialsAsync(account.Username, default))?.PasswordHash);
    }

    [Fact]
    public async Task Imported_accounts_go_in_once_with_their_friendships_and_a_clash_writes_nothing()
    {
        var created = DateTime.UtcNow.AddYears(-2);
        var ola = Imported($"rule_ola_{_tag}", created);
        var ewa = Imported($"rule_ewa_{_tag}", created.AddDays(1));
        (Guid, Guid)[] friendships = [(ola.Id, ewa.Id), (ewa.Id, ola.Id), (ola.Id, Guid.NewGuid())];

        Assert.Equal(new AccountImport(2, 0, 2), await _users.WriteImportedAsync([ola, ewa], friendships, default));
        Assert.Equal(new AccountImport(0, 2, 0), await _users.WriteImportedAsync([ola, ewa], friendships, default));
        Assert.Equal([ewa.Id], (await _users.ListFriendsAsync(ola.Id, default)).Select(f => f.Id));
        var again = await _users.CheckImportedAsync([ola, ewa], default);
        Assert.Empty(again.Clashes);
        Assert.Equal(2, again.AlreadyThere);

        // Another id under a name that is there (in another case): a clash the check names, and a write that adds nothing.
        var newcomer = Imported($"rule_newcomer_{_tag}", created);
        var clash = Imported(ola.Username.ToUpperInvariant(), created);
        var check = await _users.CheckImportedAsync([newcomer, clash], default);
        Assert.Equal([(clash.Id, ola.Id)], check.Clashes.Select(c => (c.Account.Id, c.ExistingId)));
        Assert.Null(await _users.WriteImportedAsync([newcomer, clash], [], default));
        Assert.Null(await _users.FindAsync(newcomer.Id, default));
    }

    private static UserAccount Account(string username) => new(Guid.CreateVersion7(), username, "");

    private static ImportedAccount Imported(string username, DateTime created) =>
        new(Guid.NewGuid(), username, "", "pbkdf2_sha256$1000$salt$placeholder", created, UsernameSkeleton.Of(username));
}
