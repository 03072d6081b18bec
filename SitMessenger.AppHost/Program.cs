using SitMessenger.AppHost.Extensions;
using SitMessenger.AppHost.Publishing;

var builder = DistributedApplication.CreateBuilder(args);
var options = builder.GetAppHostOptions(args);
var (deploymentPublisher, publishError) = DeploymentPublisher.Check(builder);
if (publishError is not null)
{
    Console.Error.WriteLine(publishError);
    return 2;
}

// Run mode keeps the servers' data, generated secrets and segment files in one folder that only this AppHost uses.
StateFolder? state;
try
{
    state = builder.AcquireStateFolder(options);
}
catch (StateFolderInUseException inUse)
{
    Console.Error.WriteLine(inUse.Message);
    return 1;
}

var database = builder.AddChatDatabase(options, state);
var cache = builder.AddChatCache(options, state);
var messaging = builder.AddChatMessaging(options, state);

// 43 letters and digits: 256 bits, and a valid base64url key of 32 bytes for the key ring.
var jwtSigningKey = builder.AddParameter("jwt-signing-key", new GenerateParameterDefault { MinLength = 43, Special = false }, secret: true);
var masterKey = builder.AddParameter("chat-master-key", new GenerateParameterDefault { MinLength = 43, Special = false }, secret: true);
// The Gateway's proof to the Api that its X-Forwarded-For is to be believed (all processes share 127.0.0.1 locally).
var gatewayForwardingKey = builder.AddParameter("gateway-forwarding-key", new GenerateParameterDefault { MinLength = 43, Special = false }, secret: true);
// What the Worker's and the Scheduler's operator actions ask for; the dashboard's commands send it.
var operatorKey = builder.AddParameter("operator-key", new GenerateParameterDefault { MinLength = 43, Special = false }, secret: true);

var migrations = builder.AddJob<Projects.SitMessenger_MigrationService>("migrations")
    .WithReference(database)
    .WaitFor(database);

// Opt-in (--import-django-from): the one-shot move from the Django version, encrypting under the Api's key ring.
builder.AddDjangoImport(options, database, masterKey, migrations);

var api = builder.AddReplicatedService<Projects.SitMessenger_Api>("api", options.ApiReplicas, replica => replica
    .WithReference(database)
    .WithReference(cache)
    .WithReference(messaging)
    .WithEnvironment("Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("ForwardedHeaders__GatewayKey", gatewayForwardingKey)
    .WithEnvironment("ChatKeyRing__Keys__k1", masterKey)
    .WithEnvironment("ChatKeyRing__ActiveKeyId", "k1")
    .WithSegmentStore(state)
    .WithFlushDelay(builder.Configuration)
    .WaitFor(cache)
    .WaitFor(messaging)
    .WaitForCompletion(migrations));

builder.AddService<Projects.SitMessenger_Worker>("worker")
    .WithReference(database)
    .WithReference(cache)
    .WithReference(messaging)
    .WithSegmentStore(state)
    .WithFlushDelay(builder.Configuration)
    .WithJobOperations(operatorKey)
    .WaitFor(cache)
    .WaitFor(messaging)
    .WaitForCompletion(migrations);

builder.AddService<Projects.SitMessenger_Scheduler>("scheduler")
    .WithReference(cache)
    .WithReference(messaging)
    .WithScheduleOperations(operatorKey)
    .WaitFor(cache)
    .WaitFor(messaging);

// Locally the web client talks plain HTTP to :8000, so HTTP is not redirected; HTTPS answers beside it with a
// self-signed localhost certificate. In production Acme__Domains, Tls__HttpsPort and Tls__RedirectToHttps do the rest.
builder.AddService<Projects.SitMessenger_Gateway>("gateway", port: options.GatewayPort)
    .WithGatewayHttps(options.GatewayHttpsPort, state)
    .WithExternalHttpEndpoints()
    .WithEnvironment("Gateway__ForwardingKey", gatewayForwardingKey)
    .WithReference(api);

builder.WithDashboardHostFiltering(options);
builder.WithServiceOverrides()
    .RestartCrashedServices()
    .WithPromptReadiness()
    .ReportStartupProgress();
state?.ProvideSecrets(builder);

var app = builder.Build();
if (deploymentPublisher is not null)
{
    return await DeploymentPublisher.PublishAsync(app, deploymentPublisher);
}

app.Run();
return 0;
