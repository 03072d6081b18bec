using SitMessenger.Worker.Apis;
using SitMessenger.Worker.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("sitdb");
builder.AddRedisClient("cache");
builder.AddRabbitMQClient("messaging");
builder.AddJobProcessing();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapJobsApi();

app.Run();
