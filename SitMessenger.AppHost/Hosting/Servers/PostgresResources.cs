using System.Diagnostics;
using System.Runtime.InteropServices;
using Npgsql;

namespace SitMessenger.AppHost.Hosting;

/// <summary>A local PostgreSQL server from the machine's binaries, its cluster kept in the state folder.</summary>
public sealed class PostgresServerResource(string name, ParameterResource password) : Resource(name), IRunnableResource, IResourceWithConnectionString
{
    private const string SuperUser = "postgres";
    private const string ServiceAccount = "postgres";
    private static readonly RequiredBinary Postgres = new("postgres", "postgresql");
    private static readonly RequiredBinary InitDb = new("initdb", "postgresql");

    public override string Kind => "PostgreSQL";

    public ParameterResource Password { get; } = password;

    public int Port => Endpoints[0].Port;

    /// <summary>
    /// Room for every service's pool (32 connections per process by default: two Api replicas and the Worker take 96)
    /// plus the migrator and an operator's psql; PostgreSQL's own default of 100 is too few for that.
    /// </summary>
    public int MaxConnections { get; set; } = 200;

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username={SuperUser};Password={Password.Value}";

    IReadOnlyList<RequiredBinary> IRunnableResource.RequiredBinaries => [Postgres, InitDb];

    // SIGINT is PostgreSQL's "fast shutdown": ends sessions, checkpoints, exits.
    PosixSignal IRunnableResource.StopSignal => PosixSignal.SIGINT;

    bool IRunnableResource.RunsToCompletion => false;

    private static string DataDirectory(RunContext context, string name) => Path.Combine(context.DataDirectoryFor(name), "data");

    async Task IRunnableResource.PrepareAsync(RunContext context, CancellationToken cancellationToken)
    {
        var root = context.DataDirectoryFor(Name);
        var data = DataDirectory(context, Name);
        Directory.CreateDirectory(root);
        await UnixAccounts.GiveToAsync(root, ServiceAccount, Name, cancellationToken);
        if (File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            return;
        }

        // initdb reads the superuser password from a file so it never shows in a process list.
        var passwordFile = Path.Combine(root, "pwfile");
        await File.WriteAllTextAsync(passwordFile, Password.Value, cancellationToken);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await UnixAccounts.GiveToAsync(passwordFile, ServiceAccount, Name, cancellationToken);
        try
        {
            var initdb = new ProcessStartInfo(context.Binaries.Find(InitDb, Name))
            {
                ArgumentList = { "-D", data, "-U", SuperUser, "--pwfile", passwordFile, "--auth", "scram-sha-256", "--encoding", "UTF8", "--locale", "C.UTF-8" },
                UserName = UnixAccounts.IsRoot ? ServiceAccount : null,
                WorkingDirectory = root,
                Environment = { ["HOME"] = root },
            };
            await RunContext.RunToCompletionAsync(Name, initdb, cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    ProcessStartInfo IRunnableResource.CreateStartInfo(RunContext context) => new(context.Binaries.Find(Postgres, Name))
    {
        // Its own folder: the service account cannot enter root's home, where we may have been started.
        WorkingDirectory = context.DataDirectoryFor(Name),
        Environment = { ["HOME"] = context.DataDirectoryFor(Name) },
        ArgumentList =
        {
            "-D", DataDirectory(context, Name),
            "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            "-c", $"max_connections={MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        },
        UserName = UnixAccounts.IsRoot ? ServiceAccount : null,
    };

    async Task<HealthStatus> IRunnableResource.CheckHealthAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false;Timeout=3");
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthStatus.Healthy;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return HealthStatus.Unhealthy(ex.Message);
        }
    }

    Task IRunnableResource.AfterStopAsync(RunContext context) => Task.CompletedTask;
}

/// <summary>A database on a <see cref="PostgresServerResource"/>, created when missing once the server is healthy.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource server)
    : Resource(name), IResourceWithConnectionString, IInitializedResource
{
    public override string Kind => "PostgreSQL database";

    public string DatabaseName { get; } = databaseName;

    public PostgresServerResource Server { get; } = server;

    public string ConnectionString => $"{Server.ConnectionString};Database={DatabaseName}";

    async Task IInitializedResource.InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(Server.ConnectionString + ";Pooling=false");
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", DatabaseName);
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            // Identifiers cannot be parameters; the name comes from the AppHost's own code, quoted all the same.
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}

public static class PostgresBuilderExtensions
{
    public static ResourceBuilder<PostgresServerResource> AddPostgres(this DistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var password = builder.AddParameter($"{name}-password", secret: true);
        return builder.AddResource(new PostgresServerResource(name, password.Resource)).WithEndpoint("tcp");
    }

    public static ResourceBuilder<PostgresServerResource> WithMaxConnections(this ResourceBuilder<PostgresServerResource> server, int maxConnections)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 10);
        server.Resource.MaxConnections = maxConnections;
        return server;
    }

    public static ResourceBuilder<PostgresDatabaseResource> AddDatabase(this ResourceBuilder<PostgresServerResource> server, string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var database = server.ApplicationBuilder.AddResource(new PostgresDatabaseResource(name, databaseName ?? name, server.Resource));
        return database.WaitFor(server);
    }
}
