using Hub.Connectors;
using Hub.Worker.Sync;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Plugins;

/// <summary>Registration of connector plugin loading.</summary>
public static class PluginExtensions
{
    /// <summary>
    /// Registers <see cref="ConnectorPlugins"/>, the plugins of <c>Hub:Plugins:Directory</c> loaded next to the built-in
    /// kinds, and loads them when the hub starts.
    /// </summary>
    public static IHostApplicationBuilder AddConnectorPlugins(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConnectorPluginOptions>().Bind(builder.Configuration.GetSection(ConnectorPluginOptions.Section));
        builder.Services.AddSingleton(sp => PluginLoader.LoadAll(
            sp.GetRequiredService<IOptions<ConnectorPluginOptions>>().Value.Directory,
            sp.GetServices<IConnectorKind>(),
            sp.GetRequiredService<ILogger<ConnectorPlugins>>()));
        builder.Services.AddHostedService<ConnectorKindsAtStart>();
        return builder;
    }
}

/// <summary>
/// Builds the hub's connector kinds, plugins included, when the host builds its hosted services: before any of them
/// starts, so a plugin that cannot be loaded stops the hub before its database starts. Logs the kinds the hub knows.
/// </summary>
internal sealed partial class ConnectorKindsAtStart(ConnectorKinds kinds, ILogger<ConnectorKindsAtStart> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogKinds(logger, string.Join(", ", kinds.All.Select(k => k.Name).Order(StringComparer.Ordinal)));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Connector kinds: {Kinds}")]
    private static partial void LogKinds(ILogger logger, string kinds);
}
