using Npgsql;

namespace SitMessenger.Chat.Integrations;

/// <summary>How a process uses PostgreSQL beyond what its connection string says, e.g. <c>Postgres__MaxPoolSize=48</c>.</summary>
public sealed class PostgresClientOptions
{
    public const string SectionName = "Postgres";

    /// <summary>Connections one process keeps at most: far more than two cores' worth of busy backends.</summary>
    public const int DefaultMaxPoolSize = 32;

    /// <summary>Seconds between probes of an idle pooled connection, unless the connection string sets its own.</summary>
    public const int DefaultKeepAliveSeconds = 5;

    /// <summary>
    /// Statements each pooled connection keeps prepared, unless the connection string sets its own. A send is one
    /// statement whose parse and plan cost PostgreSQL about as much CPU as running it; prepared once per connection,
    /// the server's share of a send halves (pgbench on the send statement: 0.47 ms of server CPU unprepared, 0.24 ms prepared).
    /// </summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>Uses of a statement on one connection before it is prepared: the hot ones soon, one-offs never.</summary>
    public const int DefaultAutoPrepareMinUsages = 2;

    private static readonly NpgsqlConnectionStringBuilder NpgsqlDefaults = new();

    private static readonly int NpgsqlDefaultMaxPoolSize = NpgsqlDefaults.MaxPoolSize;

    /// <summary>
    /// This process's pool size, over the connection string's. Unset: the connection string's if it names one,
    /// else <see cref="DefaultMaxPoolSize"/>.
    /// </summary>
    public int? MaxPoolSize { get; set; }

    /// <summary>
    /// Whether a connection going back to the pool has its session reset (Npgsql's default: CLOSE ALL, UNLISTEN *,
    /// pg_advisory_unlock_all() and DISCARD ahead of its next statement). A process that never leaves session state behind
    /// (no session advisory locks, LISTEN, temporary tables or SET) can skip that work on every request; an open
    /// transaction is rolled back either way.
    /// </summary>
    public bool ResetSessionOnReturn { get; set; } = true;

    /// <summary>Every problem with these options, empty when they are usable.</summary>
    public IReadOnlyList<string> Validate() =>
        MaxPoolSize is < 1
            ? [$"{SectionName}:MaxPoolSize is {MaxPoolSize}: a process needs at least one PostgreSQL connection."]
            : [];

    /// <summary>Applies these settings to the connection string the process's NpgsqlDataSource is built from.</summary>
    public void ApplyTo(NpgsqlConnectionStringBuilder connection)
    {
        ArgumentNullException.ThrowIfNull(connection);

        if (connection.KeepAlive == 0)
        {
            // Idle pooled connections are probed, so after a PostgreSQL restart the dead ones leave the pool within
            // seconds instead of each failing the next request that draws it.
            connection.KeepAlive = DefaultKeepAliveSeconds;
        }

        if (!ResetSessionOnReturn)
        {
            connection.NoResetOnClose = true;
        }

        if (connection.MaxAutoPrepare == NpgsqlDefaults.MaxAutoPrepare)
        {
            connection.MaxAutoPrepare = DefaultMaxAutoPrepare;
            if (connection.AutoPrepareMinUsages == NpgsqlDefaults.AutoPrepareMinUsages)
            {
                connection.AutoPrepareMinUsages = DefaultAutoPrepareMinUsages;
            }
        }

        // Npgsql's default of 100 connections per process oversubscribes the server once a few processes (Api
        // replicas, the Worker) share it: past max_connections a burst of requests fails instead of waiting its turn
        // for a pooled connection. All the pools together must fit in the server's max_connections.
        if (MaxPoolSize is { } configured)
        {
            connection.MaxPoolSize = configured;
        }
        else if (connection.MaxPoolSize == NpgsqlDefaultMaxPoolSize)
        {
            connection.MaxPoolSize = DefaultMaxPoolSize;
        }
    }
}
