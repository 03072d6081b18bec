using SitMessenger.Api.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("sitdb");
builder.AddRedisClient("cache");
builder.AddRabbitMQClient("messaging");

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapPingApi();

app.Run();
