using System.Text.Json;

namespace Hub.Connectors.BuiltIn;

/// <summary>The problems a built-in kind's settings parser reports, as <see cref="IConnectorKind.CheckConfiguration"/> returns them.</summary>
internal static class ConfigurationProblems
{
    /// <summary>Runs the parser; its <see cref="ConnectorException"/> lists problems as lines <c>- path: problem</c>.</summary>
    public static IReadOnlyList<string> Of<T>(Func<JsonElement, T> parse, JsonElement configuration)
    {
        try
        {
            parse(configuration);
            return [];
        }
        catch (ConnectorException e)
        {
            var lines = e.Message.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("- ", StringComparison.Ordinal)).Select(l => l[2..]).ToList();
            return lines.Count > 0 ? lines : [e.Message];
        }
    }
}
