using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using SitMessenger.Hosting.LocalServers;

namespace Aspire.Hosting;

/// <summary>PostgreSQL from Debian's <c>postgresql</c> package as an Aspire resource: no container engine needed.</summary>
public static class LocalPostgresBuilderExtensions
{
    private const string ServiceAccount = "postgres";
    private static readonly ServerBinary Postgres = new("postgres", "postgresql");
    private static readonly ServerBinary InitDb = new("initdb", "postgresql");

    /// <summary>
    /// Adds a PostgreSQL server that runs the machine's <c>postgres</c> (as the <c>postgres</c> account when the AppHost is
    /// root, since PostgreSQL refuses root) on a loopback port, its cluster kept in <paramref name="dataDirectory"/> so it
    /// survives restarts. The superuser password is the generated parameter <c>{name}-password</c>, as with AddPostgres.
    /// </summary>
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, string dataDirectory, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var binaries = new ServerBinaries(builder.Configuration[ServerBinaries.SearchPathKey]);
        var postgres = binaries.Find(Postgres, name);
        var initdb = binaries.Find(InitDb, name);

        var password = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false));
        var server = new LocalPostgresServerResource(name, Path.GetFullPath(dataDirectory), password.Resource);
        port = LoopbackPorts.OrFree(port);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) =>
            connectionString = await server.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, (_, ct) => CreateDatabasesAsync(server, connectionString!, ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => (connectionString ?? throw new InvalidOperationException("Connection string is unavailable")) + ";Database=postgres;Timeout=3",
            name: healthCheckKey);

        return builder.AddResource(server)
            .WithEndpoint(port: port, targetPort: port, name: LocalPostgresServerResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(Path.Combine(server.DataDirectory, "run.sh"))
            // Its own folder as home: the service account cannot enter root's, where we may have been started.
            .WithEnvironment("HOME", server.DataDirectory)
            .WithIconName("DatabaseMultiple")
            .WithHealthCheck(healthCheckKey)
            .OnBeforeResourceStarted((resource, _, ct) => PrepareAsync(resource, postgres, initdb, port, ct));
    }

    /// <summary>Raises PostgreSQL's connection limit: the pools of every service process must fit in it together.</summary>
    public static IResourceBuilder<LocalPostgresServerResource> WithMaxConnections(this IResourceBuilder<LocalPostgresServerResource> server, int maxConnections)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 10);
        server.Resource.MaxConnections = maxConnections;
        return server;
    }

    /// <summary>Adds a database, created on the server when missing as soon as the server is ready (as AddDatabase does).</summary>
    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresServerResource> server, string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.AddDatabase(name, database.DatabaseName);

        string? connectionString = null;
        server.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));
        // A database has no process: it runs when its server is ready (and, by then, has created it). Its own health
        // check then tells whether it answers, and resources that wait for it start.
        server.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, (ready, _) =>
            ready.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(database, snapshot => snapshot with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
            }));
        var healthCheckKey = $"{name}_check";
        server.ApplicationBuilder.Services.AddHealthChecks().AddNpgSql(
            _ => (connectionString ?? throw new InvalidOperationException("Connection string is unavailable")) + ";Timeout=3",
            name: healthCheckKey);

        return server.ApplicationBuilder.AddResource(database).WithHealthCheck(healthCheckKey);
    }

    private static async Task PrepareAsync(LocalPostgresServerResource server, string postgres, string initdb, int port, CancellationToken cancellationToken)
    {
        var root = server.DataDirectory;
        var data = Path.Combine(root, "data");
        OwnerOnlyFolders.Create(root);
        await ServiceAccounts.GiveToAsync(root, ServiceAccount, cancellationToken).ConfigureAwait(false);
        if (!File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            await InitializeClusterAsync(server, initdb, root, data, cancellationToken).ConfigureAwait(false);
        }

        var launcher = new LauncherScript(postgres,
        [
            "-D", data,
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            "-c", $"max_connections={server.MaxConnections.ToString(CultureInfo.InvariantCulture)}",
            // Values stay out of the server's log: terse drops DETAIL lines ("Key (username)=(alice) already exists"),
            // and neither statements nor their parameters are logged, not even with an error.
            "-c", "log_error_verbosity=terse",
            "-c", "log_min_error_statement=panic",
            "-c", "log_statement=none",
            "-c", "log_parameter_max_length=0",
            "-c", "log_parameter_max_length_on_error=0",
        ])
        {
            Account = ServiceAccount,
            // SIGINT is PostgreSQL's "fast" shutdown: ends sessions, checkpoints, exits. SIGTERM ("smart") would wait for
            // every pooled connection of the services to close, which they never do while running.
            StopSignal = "INT",
        };
        await launcher.WriteAsync(root, cancellationToken).ConfigureAwait(false);
    }

    private static async Task InitializeClusterAsync(LocalPostgresServerResource server, string initdb, string root, string data, CancellationToken cancellationToken)
    {
        // initdb reads the superuser password from a file so it never shows in a process list.
        var passwordFile = Path.Combine(root, "pwfile");
        var password = await server.PasswordParameter.GetValueAsync(cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await ServiceAccounts.GiveToAsync(passwordFile, ServiceAccount, cancellationToken).ConfigureAwait(false);
        try
        {
            await ServiceAccounts.RunAsync(new ProcessStartInfo(initdb)
            {
                ArgumentList =
                {
                    "-D", data, "-U", LocalPostgresServerResource.SuperUser, "--pwfile", passwordFile,
                    "--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C.UTF-8",
                },
                UserName = ServiceAccounts.IsRoot ? ServiceAccount : null,
                WorkingDirectory = root,
                Environment = { ["HOME"] = root },
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static async Task CreateDatabasesAsync(LocalPostgresServerResource server, string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Database=postgres;Pooling=false");
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var databaseName in server.Databases.Values)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", databaseName);
            if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                // Identifiers cannot be parameters; the name comes from the AppHost's own code, quoted all the same.
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{databaseName.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
