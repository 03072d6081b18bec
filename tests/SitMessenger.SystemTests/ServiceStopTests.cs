using System.Diagnostics;
using System.Globalization;
using SitMessenger.Hosting.LocalServers;
using SitMessenger.SystemTests.Infrastructure;
using Xunit.Abstractions;

namespace SitMessenger.SystemTests;

/// <summary>A service stopped as the dashboard's Stop does it (DCP's resource-stop).</summary>
[Collection(SystemCollection.Name)]
public sealed class ServiceStopTests(SitMessengerAppFixture fixture, ITestOutputHelper output)
{
    // DCP ends a process that is still there ~5 s after its SIGTERM with SIGKILL (exit code -1), and gives up on the stop
    // some seconds later; a service that lets go in under a second has to be gone well before that.
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(4);

    [Theory]
    [InlineData("worker", "SitMessenger.Worker.dll")]
    [InlineData("scheduler", "SitMessenger.Scheduler.dll")]
    public async Task A_service_stopped_through_dcp_is_its_own_process_and_exits_cleanly_within_seconds(string name, string assembly)
    {
        var app = fixture.App;
        var pid = app.Status(name).ProcessId ?? throw new InvalidOperationException($"{name} has no process id");
        // DCP starts the built service itself, no `dotnet run` between them that the stop would have to pass through.
        var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        Assert.Contains(assembly, commandLine, StringComparison.Ordinal);
        Assert.Empty(LocalProcessTable.Children(pid));

        var clock = Stopwatch.StartNew();
        try
        {
            await app.StopResourceAsync(name);
            var stopped = clock.Elapsed;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} (pid {pid}) stopped in {stopped.TotalSeconds:0.00} s"));
            Assert.True(stopped < StopBudget, string.Create(CultureInfo.InvariantCulture, $"the stop of {name} took {stopped.TotalSeconds:0.0} s"));
            Assert.False(LocalProcessTable.IsAlive(pid), $"{name}'s process {pid} is still running after its stop");
            var status = app.Status(name);
            Assert.True(status.ExitCode == 0, $"{name} ended with exit code {status.ExitCode} ({status.State}): killed rather than stopped");
        }
        finally
        {
            using var starting = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await app.StartResourceAsync(name, starting.Token);
        }
    }
}
