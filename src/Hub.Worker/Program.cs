using Hub.Core.Postgres;
using Hub.Worker.Api;
using Hub.Worker.Database;

var builder = WebApplication.CreateBuilder(args);

builder.AddHubDatabase();
builder.Services.AddProblemDetails();
builder.Services.AddHubHealthChecks();
builder.Services.AddDossiersApi();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealthApi();
app.MapDossiersApi();

try
{
    app.Run();
    return 0;
}
catch (LocalPostgresException)
{
    // Already logged by the host with the reason and what to do; no stack trace for a set-up problem.
    return 1;
}
