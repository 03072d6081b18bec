using SitMessenger.Gateway.Extensions;
using SitMessenger.Gateway.Tls;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayTls();
builder.AddEdgeForwarding();
builder.AddGatewayRateLimits();
builder.AddApiReverseProxy();

var app = builder.Build();

// Forwarded headers first: behind a TLS-terminating proxy the redirect must see the original scheme.
app.UseEdgeForwarding();
app.UseGatewayTls();
app.UseSecurityHeaders();
app.UseGatewayErrors();
app.MapDefaultEndpoints();
app.UseRateLimiter();
app.UseRequestBodyLimit();
app.MapReverseProxy();

app.Run();
