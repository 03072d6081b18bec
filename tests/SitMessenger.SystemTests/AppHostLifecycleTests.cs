using Npgsql;
using SitMessenger.AppHost.Hosting;
using SitMessenger.AppHost.Hosting.Testing;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests;

/// <summary>Tests that need an AppHost of their own: stopping it, restarting it, breaking its machine.</summary>
public sealed class AppHostLifecycleTests
{
    [Fact]
    public async Task Stopping_leaves_no_process_behind_and_a_restart_keeps_what_postgres_held()
    {
        var first = DistributedApplicationTestingBuilder.Create<Program>();
        var stateDirectory = first.StateDirectory;
        try
        {
            await first.StartAsync(new CancellationTokenSource(SitMessengerAppFixture.StartupBudget).Token);
            var marker = Guid.NewGuid().ToString();
            await using (var connection = new NpgsqlConnection(first.GetConnectionString("sitdb")))
            {
                await connection.OpenAsync();
                await using var write = new NpgsqlCommand("CREATE TABLE survives_restart (value text); INSERT INTO survives_restart VALUES (@v)", connection);
                write.Parameters.AddWithValue("v", marker);
                await write.ExecuteNonQueryAsync();
            }

            var pids = first.GetSnapshots().Where(s => s.ProcessId is not null).Select(s => s.ProcessId!.Value).ToList();
            Assert.True(pids.Count >= 7, "every server and service has a process");
            await first.DisposeAsync();

            Assert.All(pids, pid => Assert.False(IsAlive(pid), $"process {pid} outlived the AppHost"));
            Assert.Empty(StateFolders.ProcessesUsing(stateDirectory));

            var second = DistributedApplicationTestingBuilder.Create<Program>(new Dictionary<string, string?>
            {
                ["AppHost:StateDirectory"] = stateDirectory,
            });
            await using (second)
            {
                await second.StartAsync(new CancellationTokenSource(SitMessengerAppFixture.StartupBudget).Token);
                await using var connection = new NpgsqlConnection(second.GetConnectionString("sitdb"));
                await connection.OpenAsync();
                await using var read = new NpgsqlCommand("SELECT value FROM survives_restart", connection);
                Assert.Equal(marker, await read.ExecuteScalarAsync());
            }

            Assert.Empty(StateFolders.ProcessesUsing(stateDirectory));
        }
        finally
        {
            await first.DisposeAsync();
            StateFolders.Delete(stateDirectory);
        }
    }

    [Fact]
    public async Task A_missing_server_binary_is_named_with_the_debian_package_to_install()
    {
        // A search path holding every server binary but redis-server, as on a machine where it is not installed.
        var binaries = Directory.CreateTempSubdirectory("sit-bin-").FullName;
        var locator = new Dictionary<string, string?>
        {
            ["postgres"] = FindOnMachine("postgres"),
            ["initdb"] = FindOnMachine("initdb"),
            ["rabbitmq-server"] = FindOnMachine("rabbitmq-server"),
        };
        foreach (var (name, path) in locator)
        {
            if (path is not null)
            {
                File.CreateSymbolicLink(Path.Combine(binaries, name), path);
            }
        }

        var app = DistributedApplicationTestingBuilder.Create<Program>(new Dictionary<string, string?>
        {
            ["AppHost:BinarySearchPath"] = binaries,
        });
        try
        {
            var error = await Assert.ThrowsAsync<ResourceStartException>(() => app.StartAsync());
            Assert.Equal("cache", error.ResourceName);
            Assert.Contains("'redis-server' was not found", error.Message, StringComparison.Ordinal);
            Assert.Contains("apt-get install -y redis-server", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("postgresql", error.Message, StringComparison.Ordinal);
            Assert.Empty(StateFolders.ProcessesUsing(app.StateDirectory));
        }
        finally
        {
            await app.DisposeAsync();
            StateFolders.Delete(app.StateDirectory);
            StateFolders.Delete(binaries);
        }
    }

    [Fact]
    public async Task An_apphost_killed_with_sigkill_leaves_nothing_its_successor_does_not_clean_up()
    {
        var stateDirectory = Directory.CreateTempSubdirectory("sit-apphost-killed-").FullName;
        var apphost = Path.Combine(AppContext.BaseDirectory, "SitMessenger.AppHost.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var startInfo = new System.Diagnostics.ProcessStartInfo(dotnet)
        {
            ArgumentList = { apphost, "--state-dir", stateDirectory, "--gateway-port", "0", "--dashboard-port", "-1" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var first = System.Diagnostics.Process.Start(startInfo)!;
        var output = new System.Text.StringBuilder();
        var healthy = new TaskCompletionSource();
        first.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains("All resources are healthy", StringComparison.Ordinal) == true)
            {
                healthy.TrySetResult();
            }
        };
        first.BeginOutputReadLine();
        first.BeginErrorReadLine();
        try
        {
            await healthy.Task.WaitAsync(SitMessengerAppFixture.StartupBudget);
            first.Kill();
            await first.WaitForExitAsync();
            Assert.NotEmpty(StateFolders.ProcessesUsing(stateDirectory));

            var successor = DistributedApplicationTestingBuilder.Create<Program>(new Dictionary<string, string?>
            {
                ["AppHost:StateDirectory"] = stateDirectory,
            });
            await using (successor)
            {
                await successor.StartAsync(new CancellationTokenSource(SitMessengerAppFixture.StartupBudget).Token);
                Assert.All(successor.GetSnapshots().Where(s => s.Kind != "Parameter"), s =>
                    Assert.Contains(s.State, new[] { ResourceState.Healthy, ResourceState.Finished }));
            }

            Assert.Empty(StateFolders.ProcessesUsing(stateDirectory));
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill(entireProcessTree: true);
            }

            StateFolders.Delete(stateDirectory);
        }
    }

    private static string? FindOnMachine(string name) =>
        new[] { "/usr/lib/postgresql/15/bin", "/usr/lib/rabbitmq/bin", "/usr/sbin", "/usr/bin", "/usr/local/bin" }
            .Concat(Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")) : [])
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
