var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("sitdb");
builder.AddRabbitMQClient("messaging");

var app = builder.Build();

// The Worker serves no API; its HTTP endpoint exists for health probes.
app.MapDefaultEndpoints();

app.Run();
