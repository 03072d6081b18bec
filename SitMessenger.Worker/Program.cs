using SitMessenger.Worker.Apis;
using SitMessenger.Worker.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPostgresDataSource("sitdb");
builder.AddRedisConnection("cache");
builder.AddRabbitMqConnection("messaging");
builder.AddJobProcessing();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapJobsApi();

app.Run();
