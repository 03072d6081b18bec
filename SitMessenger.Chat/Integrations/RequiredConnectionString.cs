namespace SitMessenger.Chat.Integrations;

internal static class RequiredConnectionString
{
    /// <summary>
    /// Stops a service at start-up when a client's connection string is missing. Left to Aspire, Npgsql would fail at
    /// the first query and RabbitMQ would quietly try guest@localhost.
    /// </summary>
    public static void Check(string? connectionString, string connectionName)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Connection string '{connectionName}' is missing: set ConnectionStrings__{connectionName} (the AppHost does this for local runs).");
        }
    }
}
