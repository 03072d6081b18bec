using SitMessenger.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres");
var database = postgres.AddDatabase("sitdb", databaseName: "sitmessenger");
var cache = builder.AddRedis("cache");
var messaging = builder.AddRabbitMQ("messaging").WithManagementPlugin();

var jwtSigningKey = builder.AddParameter("jwt-signing-key", secret: true);
var masterKey = builder.AddParameter("chat-master-key", secret: true);

// Segment files: a folder in the state directory here, a shared volume in production.
var segmentRoot = Path.Combine(builder.StateDirectory, "segments");
var flushDelay = builder.Configuration["SitMessenger:FlushDelay"] ?? "00:00:20";

var migrations = builder.AddProject<Projects.SitMessenger_MigrationService>("migrations")
    .WithReference(database)
    .WaitFor(database);

var api = builder.AddProject<Projects.SitMessenger_Api>("api")
    .WithReference(database)
    .WithReference(cache)
    .WithReference(messaging)
    .WithEnvironment("Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("ChatKeyRing__Keys__k1", masterKey)
    .WithEnvironment("ChatKeyRing__ActiveKeyId", "k1")
    .WithEnvironment("Segments__Root", segmentRoot)
    .WithEnvironment("Flush__Delay", flushDelay)
    .WithReplicas(builder.Options.ApiReplicas)
    .WaitFor(cache)
    .WaitFor(messaging)
    .WaitForCompletion(migrations);

builder.AddProject<Projects.SitMessenger_Worker>("worker")
    .WithReference(database)
    .WithReference(cache)
    .WithReference(messaging)
    .WithEnvironment("Segments__Root", segmentRoot)
    .WithEnvironment("Flush__Delay", flushDelay)
    .WaitFor(cache)
    .WaitFor(messaging)
    .WaitForCompletion(migrations);

builder.AddProject<Projects.SitMessenger_Scheduler>("scheduler")
    .WithReference(cache)
    .WithReference(messaging)
    .WaitFor(cache)
    .WaitFor(messaging);

// Locally the web client talks plain HTTP to :8000, so HTTP is not redirected; HTTPS answers beside it with a
// self-signed localhost certificate. In production Acme__Domains, Tls__HttpsPort and Tls__RedirectToHttps do the rest.
builder.AddProject<Projects.SitMessenger_Gateway>("gateway")
    .WithHttpEndpoint(port: builder.Options.GatewayPort, isExternal: true)
    .WithHttpsEndpoint(port: builder.Options.GatewayHttpsPort, isExternal: true)
    .WithEnvironment("Acme__StorePath", Path.Combine(builder.StateDirectory, "acme"))
    .WithReference(api)
    .WaitFor(api);

builder.Build().Run();

/// <summary>The AppHost's entry point, public so tests can start the same model.</summary>
public partial class Program;
