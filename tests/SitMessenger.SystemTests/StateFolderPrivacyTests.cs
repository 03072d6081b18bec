using System.Net;
using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests;

/// <summary>What a local run leaves on disk is for its owner only, and the servers' logs hold no user data.</summary>
[Collection(SystemCollection.Name)]
public sealed class StateFolderPrivacyTests(SitMessengerAppFixture fixture)
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode ListOrWrite = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    private readonly SitApiClient _api = new(fixture.Gateway);

    [Fact]
    public async Task Logs_segments_and_server_folders_are_readable_only_by_their_owner()
    {
        // A flushed chat, so the segment folders exist.
        var users = await _api.SharedUsersAsync();
        var chat = await _api.CreateChatAsync(users[0], users[1]);
        ApiAssert.Status(HttpStatusCode.OK, await _api.PatchMessageAsync(users[0], chat, "on disk"));
        var segments = Path.Combine(fixture.App.StateDirectory, "segments");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!Directory.Exists(segments) || !Directory.EnumerateFiles(segments, "*.seg", SearchOption.AllDirectories).Any())
        {
            Assert.True(DateTime.UtcNow < deadline, "no segment file within 60 s");
            await Task.Delay(500);
        }

        var state = fixture.App.StateDirectory;
        // Only the right to pass through may be left to others: the servers' accounts need it to reach their folders.
        Assert.Equal((UnixFileMode)0, File.GetUnixFileMode(state) & ListOrWrite);
        foreach (var folder in new[] { "logs", "segments", "cache", "messaging", "postgres" })
        {
            var mode = File.GetUnixFileMode(Path.Combine(state, folder));
            Assert.True((mode & ~UnixFileMode.OtherExecute) == OwnerOnlyFolder, $"{folder} is {mode}");
        }

        foreach (var folder in Directory.EnumerateDirectories(segments))
        {
            Assert.Equal(OwnerOnlyFolder, File.GetUnixFileMode(folder));
        }

        var files = Directory.EnumerateFiles(segments, "*.seg", SearchOption.AllDirectories).Concat(Directory.EnumerateFiles(Path.Combine(state, "logs"))).ToList();
        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)));
    }

    [Fact]
    public async Task A_taken_username_leaves_no_value_in_the_database_log()
    {
        var username = SitApiClient.UniqueUsername("logged");
        ApiAssert.Status(HttpStatusCode.Created, await _api.RegisterAsync(username, SitApiClient.StrongPassword()));
        var log = fixture.App.LogPath("postgres");
        var violations = Violations(log);

        ApiAssert.Status(HttpStatusCode.BadRequest, await _api.RegisterAsync(username, SitApiClient.StrongPassword()));

        // The server logs the error itself, without the key's value; the log is written a moment later.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Violations(log) <= violations)
        {
            Assert.True(DateTime.UtcNow < deadline, "PostgreSQL logged no unique violation within 20 s");
            await Task.Delay(250);
        }

        Assert.DoesNotContain(username, Read(log), StringComparison.Ordinal);
    }

    private static int Violations(string log) =>
        Read(log).Split('\n').Count(line => line.Contains("duplicate key value violates unique constraint", StringComparison.Ordinal));

    private static string Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
