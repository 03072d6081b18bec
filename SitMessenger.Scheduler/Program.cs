using SitMessenger.Scheduler.Apis;
using SitMessenger.Scheduler.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRedisConnection("cache");
builder.AddRabbitMqConnection("messaging");
builder.AddSitMessengerScheduler();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapScheduleApi();

app.Run();
