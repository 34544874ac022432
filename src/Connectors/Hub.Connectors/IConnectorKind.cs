using System.Text.Json;

namespace Hub.Connectors;

/// <summary>
/// A kind of connector (REST pull, webhook push, a plugin's own protocol). The hub finds kinds in its own
/// assemblies and in the plugins folder: every public, non-abstract class with a parameterless constructor that
/// implements this interface is a kind. A kind is stateless; a registered connector is a kind plus a
/// configuration and a mapping.
/// </summary>
public interface IConnectorKind
{
    /// <summary>Unique name of the kind, lower-case with dashes, for example <c>rest-pull</c>. Connectors refer to it.</summary>
    string Name { get; }

    /// <summary>One sentence for the people who register connectors.</summary>
    string Description { get; }

    /// <summary>
    /// JSON Schema (draft-07) of the kind's configuration. Properties holding secrets (passwords, client secrets,
    /// API keys, HMAC keys) are marked with <c>"x-secret": true</c> (on the property, or on <c>additionalProperties</c> for
    /// every value of a map): the hub stores their values encrypted, hands them to the kind decrypted in
    /// <see cref="ConnectorContext.Configuration"/>, and never logs or returns them.
    /// </summary>
    string ConfigurationSchema { get; }

    /// <summary>
    /// Checks a configuration that is valid against <see cref="ConfigurationSchema"/> for what a schema cannot say
    /// (URLs that must join, time zones, formats, certificates), without creating a source or receiver and without any
    /// call outside the process. Used to validate a registration before anything is stored.
    /// </summary>
    /// <returns>Every problem found, each as <c>path: what is wrong</c> with the dotted path in the configuration (for
    /// example <c>cursor.lookback: must be at most 7 days</c>); empty when the configuration is usable. Never a secret's value.</returns>
    IReadOnlyList<string> CheckConfiguration(JsonElement configuration) => [];
}

/// <summary>A kind whose connectors pull changes from the source on a schedule.</summary>
public interface IPullConnectorKind : IConnectorKind
{
    /// <summary>Creates the pull source of one connector. Called for each run; the source is disposed after the run.</summary>
    /// <exception cref="ConnectorException">The configuration is unusable (with <see cref="FailureSide.Configuration"/>).</exception>
    IPullSource CreateSource(ConnectorContext context);
}

/// <summary>A kind whose connectors receive messages that the source pushes to the hub.</summary>
public interface IPushConnectorKind : IConnectorKind
{
    /// <summary>Creates the receiver of one connector.</summary>
    /// <exception cref="ConnectorException">The configuration is unusable (with <see cref="FailureSide.Configuration"/>).</exception>
    IPushReceiver CreateReceiver(ConnectorContext context);
}

/// <summary>What a connector gets from the hub: who it is, its configuration and the hub's services.</summary>
/// <param name="ConnectorId">The connector's id in the hub.</param>
/// <param name="SourceSystem">The hub's id of the source system; the first half of every dossier key it reports.</param>
/// <param name="Configuration">The connector's configuration, valid against the kind's schema, secrets included.</param>
/// <param name="Http">
/// An HTTP client for the source that already goes through the connector's own resilience pipeline (timeout,
/// retries honouring Retry-After, circuit breaker, rate limit). Connectors use it for every call to the source.
/// </param>
/// <param name="Logger">A logger for the connector. Never log record contents: they hold personal data.</param>
/// <param name="Time">The hub's clock.</param>
public sealed record ConnectorContext(
    string ConnectorId,
    string SourceSystem,
    JsonElement Configuration,
    HttpClient Http,
    Microsoft.Extensions.Logging.ILogger Logger,
    TimeProvider Time);
