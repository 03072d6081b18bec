using System.Diagnostics;
using Npgsql;
using SitMessenger.Hosting.LocalServers;
using SitMessenger.SystemTests.Infrastructure;
using SitMessenger.SystemTests.Pipeline;

namespace SitMessenger.SystemTests;

/// <summary>Tests that need an AppHost of their own: stopping it, restarting it, breaking its machine.</summary>
public sealed class AppHostLifecycleTests
{
    private static readonly TimeSpan CleanupBudget = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Stopping_leaves_no_process_behind_and_a_restart_keeps_what_postgres_held()
    {
        var stateDirectory = Directory.CreateTempSubdirectory("sit-apphost-restart-").FullName;
        try
        {
            var marker = Guid.NewGuid().ToString();
            List<int> pids;
            await using (var first = await SitMessengerSystem.StartAsync(stateDirectory: stateDirectory))
            {
                await using var connection = new NpgsqlConnection(await first.GetConnectionStringAsync("sitdb"));
                await connection.OpenAsync();
                await using var write = new NpgsqlCommand("CREATE TABLE survives_restart (value text); INSERT INTO survives_restart VALUES (@v)", connection);
                write.Parameters.AddWithValue("v", marker);
                await write.ExecuteNonQueryAsync();
                pids = [.. first.Statuses().Where(s => s.ProcessId is not null).Select(s => s.ProcessId!.Value)];
                Assert.True(pids.Count >= 7, $"every server and service has a process: {string.Join(", ", first.Statuses())}");
            }

            await UntilNothingRunsInAsync(stateDirectory, pids);

            await using (var second = await SitMessengerSystem.StartAsync(stateDirectory: stateDirectory))
            {
                await using var connection = new NpgsqlConnection(await second.GetConnectionStringAsync("sitdb"));
                await connection.OpenAsync();
                await using var read = new NpgsqlCommand("SELECT value FROM survives_restart", connection);
                Assert.Equal(marker, await read.ExecuteScalarAsync());
            }

            await UntilNothingRunsInAsync(stateDirectory, []);
        }
        finally
        {
            StateFolders.Delete(stateDirectory);
        }
    }

    [Fact]
    public async Task A_missing_server_binary_is_named_with_the_debian_package_to_install()
    {
        // A search path holding every server binary but redis-server, as on a machine where it is not installed.
        var binaries = Directory.CreateTempSubdirectory("sit-bin-").FullName;
        foreach (var name in new[] { "postgres", "initdb", "rabbitmq-server" })
        {
            if (FindOnMachine(name) is { } path)
            {
                File.CreateSymbolicLink(Path.Combine(binaries, name), path);
            }
        }

        var stateDirectory = Directory.CreateTempSubdirectory("sit-apphost-nobin-").FullName;
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => SitMessengerSystem.StartAsync(
                new Dictionary<string, string?> { [ServerBinaries.SearchPathKey] = binaries }, stateDirectory));
            var missing = Causes(error).OfType<ServerBinaryNotFoundException>().FirstOrDefault();
            Assert.True(missing is not null, $"not a missing-binary error: {error}");
            Assert.Equal("cache", missing.ResourceName);
            Assert.Contains("'redis-server' was not found", missing.Message, StringComparison.Ordinal);
            Assert.Contains("apt-get install -y redis-server", missing.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("postgresql", missing.Message, StringComparison.Ordinal);
            await UntilNothingRunsInAsync(stateDirectory, []);
        }
        finally
        {
            StateFolders.Delete(stateDirectory);
            StateFolders.Delete(binaries);
        }
    }

    [Fact]
    public async Task A_second_apphost_on_the_same_folder_says_so_and_one_killed_with_sigkill_leaves_nothing_its_successor_does_not_clean_up()
    {
        var stateDirectory = Directory.CreateTempSubdirectory("sit-apphost-killed-").FullName;
        using var first = AppHostProcess.Start(stateDirectory);
        try
        {
            await first.WaitForOutputAsync("All resources are healthy", SitMessengerSystem.StartupBudget);
            Assert.NotEmpty(StateFolders.ProcessesUsing(stateDirectory));

            using (var second = AppHostProcess.Start(stateDirectory))
            {
                Assert.True(second.WaitForExit(TimeSpan.FromSeconds(60)), "the second AppHost did not give up");
                Assert.NotEqual(0, second.Process.ExitCode);
                Assert.Contains("already running on the state folder", second.Output, StringComparison.Ordinal);
                Assert.Contains("--state-dir", second.Output, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", second.Output, StringComparison.Ordinal);
            }

            first.Process.Kill();
            await first.Process.WaitForExitAsync();

            // DCP, which watches the AppHost's process, stops what it started; the successor stops whatever else is left.
            await using (var successor = await SitMessengerSystem.StartAsync(stateDirectory: stateDirectory))
            {
                Assert.All(successor.Replicas("api").Concat(successor.Replicas("gateway")), s => Assert.True(s.IsHealthy, $"{s.ResourceId}: {s.State}"));
            }

            await UntilNothingRunsInAsync(stateDirectory, []);
        }
        finally
        {
            if (!first.Process.HasExited)
            {
                first.Process.Kill(entireProcessTree: true);
            }

            StateFolders.Delete(stateDirectory);
        }
    }

    private static async Task UntilNothingRunsInAsync(string stateDirectory, IReadOnlyList<int> pids) =>
        await Poll.UntilAsync($"no process left in {stateDirectory}", CleanupBudget,
            () => Task.FromResult(StateFolders.ProcessesUsing(stateDirectory).Concat(pids.Where(LocalProcessTable.IsAlive).Select(p => $"pid {p}")).ToList()),
            left => left.Count == 0,
            left => string.Join("; ", left));

    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Causes))
                {
                    yield return inner;
                }
            }
        }
    }

    private static string? FindOnMachine(string name) =>
        new[] { "/usr/lib/postgresql/15/bin", "/usr/lib/rabbitmq/bin", "/usr/sbin", "/usr/bin", "/usr/local/bin" }
            .Concat(Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")) : [])
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
}
