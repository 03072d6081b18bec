using Scalar.AspNetCore;
using SitMessenger.Api.Apis;
using SitMessenger.Api.Extensions;
using SitMessenger.Api.RealTime;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
// The Api keeps no session state on its connections (its locks are transaction-scoped), so a pooled connection
// needs no reset between requests: a fifth of PostgreSQL's CPU per send.
builder.AddPostgresDataSource("sitdb", postgres => postgres.ResetSessionOnReturn = false);
builder.AddRedisConnection("cache");
builder.AddRabbitMqConnection("messaging");
builder.AddSitMessengerApi();
builder.AddRealTime();

var app = builder.Build();

app.UseGatewayForwarding();
app.UseExceptionHandler();
app.UseDrfStatusPages();
app.UseRequestBodyLimit();
app.UseCors(ApiServiceExtensions.CorsPolicy);
app.UseWebSockets();
app.UseAuthentication();
app.UseAuthorization();
app.UseHubConnectionLimit();

app.MapDefaultEndpoints();
app.MapOpenApi("/api/schema/{documentName}.json");
app.MapGet("/api/schema/", () => TypedResults.Redirect("/api/schema/v1.json")).ExcludeFromDescription();
app.MapScalarApiReference("/api/schema/swagger-ui", options => options
    .WithTitle("SIT Messenger API")
    .WithOpenApiRoutePattern("/api/schema/{documentName}.json"));

app.MapPingApi();
app.MapAuthApi();
app.MapUsersApi();
app.MapChatsApi();
app.MapBlocksApi();
app.MapEchoHubApi();
app.MapChatReadApi();
app.MapChatHub();

app.Run();
