using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>The example client (samples/SitMessenger.Samples.LiveChat): two users chat live through the Gateway with typing and receipts.</summary>
[Collection(SystemCollection.Name)]
public sealed class RealTimeSampleClientTests(SitMessengerAppFixture fixture)
{
    [Fact]
    public async Task The_sample_client_shows_two_users_chatting_live_with_typing_and_receipts()
    {
        var sample = SampleAssembly();
        var run = await ChildProcess.RunAsync("dotnet", [sample, RealTimeSetup.Gateway(fixture).ToString()], [], TimeSpan.FromSeconds(90));
        Assert.True(run.ExitCode == 0, run.ToString());

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] expected =
        [
            "is typing...",
            "from alice_", "Hi Bob, this arrived without you asking for it.",
            "has read up to #2",
            "from bob_", "Within milliseconds. And I saw you typing.",
            "has read up to #3",
            "Retries are safe too",
            "has read up to #4",
        ];
        Assert.All(expected, e => Assert.Contains(lines, l => l.Contains(e, StringComparison.Ordinal)));
        // Both heard each message: alice her own and bob's, bob likewise.
        Assert.Equal(6, lines.Count(l => l.Contains("] message #", StringComparison.Ordinal)));
        Assert.Equal(2, lines.Count(l => l.Contains(": added", StringComparison.Ordinal)));
    }

    private static string SampleAssembly()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "SitMessenger.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        // The same configuration as this test assembly (bin/<configuration>/<framework>/).
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(root.FullName, "samples", "SitMessenger.Samples.LiveChat", "bin", framework.Parent!.Name, framework.Name, "SitMessenger.Samples.LiveChat.dll");
        Assert.True(File.Exists(path), $"build the solution first: {path} is missing");
        return path;
    }
}
