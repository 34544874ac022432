using Hub.Worker.Api;
using Hub.Worker.Database;

var builder = WebApplication.CreateBuilder(args);

builder.AddHubDatabase();
builder.Services.AddProblemDetails();
builder.Services.AddHubHealthChecks();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealthApi();
app.MapDossiersApi();

app.Run();
