using SitMessenger.Gateway.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddEdgeForwarding();
builder.AddGatewayRateLimits();
builder.AddApiReverseProxy();

var app = builder.Build();

app.UseEdgeForwarding();
app.UseSecurityHeaders();
app.MapDefaultEndpoints();
app.UseRateLimiter();
app.MapReverseProxy();

app.Run();
