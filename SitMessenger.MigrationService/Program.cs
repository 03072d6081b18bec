using SitMessenger.MigrationService;

// One-shot: applies the schema migrations, then exits 0 (or non-zero with the reason) so that the AppHost
// starts the services only on an up-to-date schema.
var builder = Host.CreateApplicationBuilder(args);

builder.AddServiceDefaults();
builder.AddPostgresDataSource("sitdb");
builder.Services.AddHostedService<SchemaMigrator>();

builder.Build().Run();
