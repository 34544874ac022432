using System.Text.Json;
using Hub.Core.Sync;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Sync;

/// <summary>Where connector registration files are read from at start-up.</summary>
public sealed class ConnectorFilesOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Connectors";

    /// <summary>A folder of <c>*.json</c> files, one connector registration each; relative to the current folder. Empty: none.</summary>
    public string? Directory { get; set; }
}

/// <summary>
/// Registers the connectors described by JSON files at start-up, so that a connector can be set up by configuration
/// alone. A file that cannot be read stops the start with its name and the reason: a hub that silently drops a
/// province's connector is worse than one that does not start.
/// </summary>
/// <remarks>The catalog is resolved at start, not in the constructor: the database is only up once its own hosted service started.</remarks>
public sealed partial class ConnectorFiles(IOptions<ConnectorFilesOptions> options, IServiceProvider services, ILogger<ConnectorFiles> logger)
    : IHostedService
{
    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var catalog = services.GetRequiredService<ConnectorCatalog>();
        var validation = new ConnectorValidation(services.GetRequiredService<ConnectorKinds>());
        var folder = options.Value.Directory;
        if (string.IsNullOrWhiteSpace(folder))
        {
            return;
        }

        if (!Directory.Exists(folder))
        {
            throw new InvalidOperationException($"The connectors folder '{Path.GetFullPath(folder)}' (Hub:Connectors:Directory) does not exist.");
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            var registration = Read(file, validation);
            // The file is the actor: whoever wrote it is known to the deployment, not to the hub.
            var actions = await catalog.SaveAsync(registration, "file:" + Path.GetFullPath(file), null, cancellationToken);
            LogRegistered(logger, registration.Id, registration.Kind, Path.GetFileName(file), actions.Count == 0 ? "unchanged" : string.Join(", ", actions));
        }
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Reads one registration file, with no check beyond its JSON form (tests that build registrations from files).</summary>
    /// <exception cref="InvalidOperationException">The file is not a valid registration; the message names the file and the problem.</exception>
    public static ConnectorRegistration Read(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<ConnectorRegistration>(File.ReadAllText(file), ConnectorCatalog.Json)
                ?? throw new InvalidOperationException($"Connector file '{file}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"Connector file '{file}' is not a valid registration: {e.Message}", e);
        }
    }

    /// <summary>Reads one registration file and checks it as <c>POST /api/connectors/validate</c> does.</summary>
    /// <exception cref="InvalidOperationException">The file is not a valid registration; the message names the file and every problem with its field.</exception>
    public static ConnectorRegistration Read(string file, ConnectorValidation validation)
    {
        ArgumentNullException.ThrowIfNull(validation);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(file));
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"Connector file '{file}' is not JSON: {e.Message}", e);
        }

        using (document)
        {
            var errors = validation.Validate(document.RootElement, out var registration);
            if (errors.Count > 0 || registration is null)
            {
                throw new InvalidOperationException(
                    $"Connector file '{file}' is not a valid registration ({errors.Count} problem(s)):"
                    + string.Concat(errors.Select(e => $"\n- {e.Field}: {e.Problem}; expected {e.Expected}")));
            }

            return registration;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector {ConnectorId} ({Kind}) registered from {File}: {Actions}")]
    private static partial void LogRegistered(ILogger logger, string connectorId, string kind, string file, string actions);
}
