using System.Text.RegularExpressions;
using SitMessenger.UnitTests.Manifest;

namespace SitMessenger.UnitTests.Accounts;

/// <summary>
/// The team's rule "one owner per table": the SQL of <c>users</c> and <c>friends</c> is written in one type of the
/// domain library (SitMessenger.Chat's UserStore), not again in each deployable. Read from the product's sources,
/// since a second copy of the SQL compiles and runs just as well until the two disagree.
/// </summary>
public sealed partial class AccountTableOwnershipTests
{
    private const string Owner = "SitMessenger.Chat/Accounts/UserStore.cs";

    // Other tables' owners that join users for a username beside their own rows; none of them writes users or friends.
    private static readonly HashSet<string> UsernameReaders = new(StringComparer.Ordinal)
    {
        "SitMessenger.Chat/Storage/ChatStore.cs", // the members' names of a chat
        "SitMessenger.Api/Accounts/BlockStore.cs", // the blocked user's name
        "SitMessenger.Api/Auth/RefreshTokenStore.cs", // the name in a rotated token
    };

    [Fact]
    public void Only_the_user_store_writes_users_and_friends()
    {
        var writers = ProductSources().Where(source => Writes().IsMatch(source.Text)).Select(source => source.Path).ToList();

        Assert.Equal([Owner], writers);
    }

    [Fact]
    public void Only_the_user_store_queries_users_and_friends_and_other_owners_only_join_users_for_a_name()
    {
        var strays = ProductSources()
            .Where(source => source.Path != Owner && (Friends().IsMatch(source.Text) || (Reads().IsMatch(source.Text) && !UsernameReaders.Contains(source.Path))))
            .Select(source => source.Path)
            .ToList();

        Assert.True(strays.Count == 0, $"SQL on users or friends outside {Owner}: {string.Join(", ", strays)}. Add the query to UserStore and call it.");
    }

    // The deployables and the domain library; tests, benchmarks and the migrations' own scripts are not owners of rows.
    private static IEnumerable<(string Path, string Text)> ProductSources()
    {
        var root = AppHostProcess.RepositoryRoot();
        return Directory.EnumerateDirectories(root, "SitMessenger.*")
            .SelectMany(project => Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories))
            .Select(path => Path.GetRelativePath(root, path).Replace('\\', '/'))
            .Where(path => !path.Contains("/obj/", StringComparison.Ordinal) && !path.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(path => (path, File.ReadAllText(Path.Combine(root, path))));
    }

    [GeneratedRegex(@"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(users|friends)\b")]
    private static partial Regex Writes();

    [GeneratedRegex(@"\b(FROM|JOIN)\s+users\b")]
    private static partial Regex Reads();

    [GeneratedRegex(@"\b(FROM|JOIN|INTO|UPDATE)\s+friends\b")]
    private static partial Regex Friends();
}
