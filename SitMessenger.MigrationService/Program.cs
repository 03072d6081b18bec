using SitMessenger.MigrationService;
using SitMessenger.MigrationService.DjangoImport;

// `import-django ...`: the one-shot move from the Django version (DjangoImport/), run by an operator or by the AppHost.
if (args is [DjangoImportCommand.Name, .. var importArgs])
{
    Environment.ExitCode = await DjangoImportCommand.RunAsync(importArgs);
    return;
}

// One-shot: applies the schema migrations, then exits 0 (or non-zero with the reason) so that the AppHost
// starts the services only on an up-to-date schema.
var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddPostgresDataSource("sitdb");
builder.Services.AddHostedService<SchemaMigrator>();

builder.Build().Run();
