using SitMessenger.Testing;

namespace SitMessenger.SystemTests.Pipeline;

/// <summary>A service's outage and recovery lines for a dependency (OutageLog in SitMessenger.Chat).</summary>
internal static class OutageLines
{
    // The client reconnects on its own backoff: the recovery line may come some seconds after the server is back.
    private static readonly TimeSpan RecoveryBudget = TimeSpan.FromSeconds(60);
    // After the recovery line, a moment more, so that a second outage (a flap) would be seen too.
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    public static async Task<(int Down, int Up, string Lines)> UntilRecoveredAsync(SitMessengerSystem app, string resource, long offset, string dependency)
    {
        var deadline = DateTime.UtcNow + RecoveryBudget;
        while (Read(app, resource, offset, dependency).Up == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        await Task.Delay(Settle);
        return Read(app, resource, offset, dependency);
    }

    private static (int Down, int Up, string Lines) Read(SitMessengerSystem app, string resource, long offset, string dependency)
    {
        var lines = StateFiles.LogSince(app, resource, offset).Split('\n')
            .Where(l => l.Contains($"{dependency} is unreachable", StringComparison.Ordinal) || l.Contains($"{dependency} is reachable again", StringComparison.Ordinal))
            .ToList();
        var down = lines.Count(l => l.Contains("is unreachable", StringComparison.Ordinal));
        return (down, lines.Count - down, string.Join(Environment.NewLine, lines));
    }
}
