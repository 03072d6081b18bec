using Npgsql;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>The migrator on a database of its own on the system's PostgreSQL server.</summary>
[Collection(SystemCollection.Name)]
public sealed class MigrationTests(SitMessengerAppFixture fixture)
{
    private static readonly TimeSpan MigratorBudget = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Two_migrators_started_at_once_both_succeed_and_apply_each_script_exactly_once()
    {
        var repository = RepositoryRoot();
        var project = Path.Combine(repository, "SitMessenger.MigrationService");
        var migrator = Path.Combine(project, "bin", "Debug", "net10.0", "SitMessenger.MigrationService.dll");
        Assert.True(File.Exists(migrator), $"{migrator} does not exist: build the solution first");
        var scripts = Directory.GetFiles(Path.Combine(project, "Migrations"), "*.sql").Select(f => Path.GetFileName(f)).ToList();
        Assert.NotEmpty(scripts);

        var sitdb = fixture.App.GetConnectionString("sitdb");
        var admin = new NpgsqlConnectionStringBuilder(sitdb) { Pooling = false }.ConnectionString;
        var database = $"mig_{Guid.NewGuid():N}";
        var target = new NpgsqlConnectionStringBuilder(sitdb) { Database = database };
        await ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
        try
        {
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
            var environment = new Dictionary<string, string>
            {
                ["ConnectionStrings__sitdb"] = target.ConnectionString,
                ["DOTNET_ENVIRONMENT"] = "Development",
            };

            // Both started before either is awaited: they race for the journal unless the migrator serializes them.
            var runs = await Task.WhenAll(
                ChildProcess.RunAsync(dotnet, [migrator], environment, MigratorBudget, project),
                ChildProcess.RunAsync(dotnet, [migrator], environment, MigratorBudget, project));
            Assert.All(runs, run => Assert.True(run.ExitCode == 0, $"a migrator failed: {run}"));

            var checkTarget = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Pooling = false }.ConnectionString;
            await using var connection = new NpgsqlConnection(checkTarget);
            await connection.OpenAsync();
            var journal = new List<string>();
            await using (var read = new NpgsqlCommand("SELECT scriptname FROM public.schemaversions", connection))
            await using (var reader = await read.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    journal.Add(reader.GetString(0));
                }
            }

            Assert.True(journal.Count == scripts.Count, $"journal [{string.Join(", ", journal)}] vs scripts [{string.Join(", ", scripts)}]");
            Assert.Equal(journal.Count, journal.Distinct(StringComparer.Ordinal).Count());
            Assert.All(scripts, script => Assert.Single(journal, name => name.EndsWith(script, StringComparison.Ordinal)));

            await using var table = new NpgsqlCommand("SELECT to_regclass('public.pending_messages') IS NOT NULL", connection);
            Assert.Equal(true, await table.ExecuteScalarAsync());
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
    }

    [Fact]
    public async Task Accounts_without_a_username_skeleton_get_one_and_existing_look_alikes_do_not_break_the_migration()
    {
        var repository = RepositoryRoot();
        var project = Path.Combine(repository, "SitMessenger.MigrationService");
        var migrator = Path.Combine(project, "bin", "Debug", "net10.0", "SitMessenger.MigrationService.dll");
        var sitdb = fixture.App.GetConnectionString("sitdb");
        var admin = new NpgsqlConnectionStringBuilder(sitdb) { Pooling = false }.ConnectionString;
        var database = $"mig_{Guid.NewGuid():N}";
        var target = new NpgsqlConnectionStringBuilder(sitdb) { Database = database, Pooling = false }.ConnectionString;
        await ExecuteAsync(admin, $"CREATE DATABASE \"{database}\"");
        try
        {
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
            var environment = new Dictionary<string, string> { ["ConnectionStrings__sitdb"] = target, ["DOTNET_ENVIRONMENT"] = "Development" };
            var first = await ChildProcess.RunAsync(dotnet, [migrator], environment, MigratorBudget, project);
            Assert.True(first.ExitCode == 0, $"the migrator failed on an empty database: {first}");

            // Accounts as the code before the skeleton made them: look-alikes side by side, no skeleton.
            await ExecuteAsync(target, """
                INSERT INTO users (id, username, email, password_hash, created) VALUES
                    ('00000000-0000-7000-8000-000000000001', 'Alice', '', 'x', '2025-01-01T00:00:00Z'),
                    ('00000000-0000-7000-8000-000000000002', 'alice', '', 'x', '2025-02-01T00:00:00Z'),
                    ('00000000-0000-7000-8000-000000000003', 'bob', '', 'x', '2025-03-01T00:00:00Z')
                """);

            var second = await ChildProcess.RunAsync(dotnet, [migrator], environment, MigratorBudget, project);
            Assert.True(second.ExitCode == 0, $"the migrator failed on existing look-alike accounts: {second}");

            await using var connection = new NpgsqlConnection(target);
            await connection.OpenAsync();
            await using var read = new NpgsqlCommand("SELECT username, username_skeleton FROM users ORDER BY created", connection);
            await using var reader = await read.ExecuteReaderAsync();
            var skeletons = new List<(string Username, string? Skeleton)>();
            while (await reader.ReadAsync())
            {
                skeletons.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)));
            }

            // The oldest of the look-alikes holds the skeleton; the younger keeps its row (and its login) without one.
            Assert.Equal([("Alice", "allce"), ("alice", null), ("bob", "bob")], skeletons);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "SitMessenger.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no SitMessenger.sln above {AppContext.BaseDirectory}");
    }
}
