using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Extensions;

/// <summary>The opt-in one-shot resource that imports a Django installation of the original (MigrationService <c>import-django</c>).</summary>
internal static class DjangoImportExtensions
{
    private const string SourceParameter = "django-import-database";

    /// <summary>
    /// Adds <c>django-import</c> when <see cref="AppHostOptions.ImportDjangoFrom"/> is set, after the migrations. The
    /// services do not wait for it: they run beside it, and a failed import (its exit code and log on the dashboard)
    /// leaves the system up. Its source connection string is a secret parameter, masked like the others.
    /// </summary>
    public static void AddDjangoImport(
        this IDistributedApplicationBuilder builder,
        AppHostOptions options,
        IResourceBuilder<IResourceWithConnectionString> database,
        IResourceBuilder<ParameterResource> masterKey,
        IResourceBuilder<ProjectResource> migrations)
    {
        if (string.IsNullOrWhiteSpace(options.ImportDjangoFrom))
        {
            return;
        }

        // Given as configuration, so the state folder's secrets file neither stores it nor hands out an older value.
        builder.Configuration[$"Parameters:{SourceParameter}"] = options.ImportDjangoFrom;
        var source = builder.AddParameter(SourceParameter, secret: true);
        var import = builder.AddJob<Projects.SitMessenger_MigrationService>("django-import")
            .WithArgs("import-django")
            .WithReference(database)
            .WithEnvironment("DjangoImport__Database", source)
            .WithEnvironment("DjangoImport__MediaRoot", options.ImportDjangoMediaRoot ?? "")
            .WithEnvironment("ChatKeyRing__Keys__k1", masterKey)
            .WithEnvironment("ChatKeyRing__ActiveKeyId", "k1")
            .WaitForCompletion(migrations);
        if (!string.IsNullOrWhiteSpace(options.ImportDjangoRedis))
        {
            import.WithEnvironment("DjangoImport__Redis", options.ImportDjangoRedis);
        }
    }
}
