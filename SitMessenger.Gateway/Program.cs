using SitMessenger.Gateway.Extensions;
using SitMessenger.Gateway.Tls;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayTls();
builder.AddEdgeForwarding();
builder.AddGatewayRateLimits();
builder.AddApiReverseProxy();

var app = builder.Build();

app.UseGatewayTls();
app.UseEdgeForwarding();
app.UseSecurityHeaders();
app.MapDefaultEndpoints();
app.UseRateLimiter();
app.MapReverseProxy();

app.Run();
