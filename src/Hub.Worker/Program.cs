using Hub.Core.Audit;
using Hub.Core.Postgres;
using Hub.Worker.Alerts;
using Hub.Worker.Audit;
using Hub.Worker.Bus;
using Hub.Worker.Dashboard;
using Hub.Worker.Api;
using Hub.Worker.Database;
using Hub.Worker.Identity;
using Hub.Worker.Plugins;
using Hub.Worker.Subscribers;
using Hub.Worker.Sync;
using Hub.Worker.Telemetry;

// `Hub.Worker evidence verify <bundle.xml> --certificate <hub.pem>`: an auditor's offline check, without a host or database.
if (EvidenceCommand.Handles(args))
{
    return EvidenceCommand.Run(args, Console.Out, Console.Error);
}

// Settings come from appsettings.json beside the program, wherever it is started from; relative paths in them
// (the local PostgreSQL folder) start at the current folder.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddHubDatabase();
builder.AddHubSecrets();
builder.AddExchangeLog();
builder.AddHubIdentity();
builder.AddHubDashboard();
builder.AddHubRateLimits();
builder.AddHubRequestLimits();
builder.AddHubSync();
builder.AddHubTelemetry();
builder.AddHubAlerts();
builder.AddHubBus();
builder.AddHubSubscribers();
builder.Services.AddProblemDetails();
builder.Services.AddHubHealthChecks();
builder.Services.AddDossiersApi();
builder.Services.AddConnectorsApi();
builder.Services.AddNationalPortalAdapter();
builder.Services.AddExchangeApi();
builder.Services.AddHubOpenApi();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseHubRequestLimits();
app.UseHubApiDocs();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();
app.MapHealthApi();
app.MapHubMetrics();
app.MapDossiersApi();
app.MapIndicatorsApi();
app.MapConnectorsApi();
app.MapAlertsApi();
app.MapConnectorRegistrationApi();
app.MapConnectorProbeApi();
app.MapNationalPortalAdapterApi();
app.MapWebhookApi();
app.MapSignedXmlApi();
app.MapExchangeApi();
app.MapSubscriptionsApi();
app.MapIdentityApi();
app.MapHubOpenApi();
app.MapHubDashboard();

try
{
    app.Run();
    return 0;
}
catch (Exception e) when (e is LocalPostgresException or PluginLoadException)
{
    // Already logged by the host with the reason and what to do; no stack trace for a set-up problem.
    return 1;
}
