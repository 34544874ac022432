using System.Text.Json;

namespace Hub.Connectors.BuiltIn;

/// <summary>The problems a built-in kind's settings parser reports, as <see cref="IConnectorKind.CheckConfiguration"/> returns them.</summary>
internal static class ConfigurationProblems
{
    /// <summary>
    /// Reads a configuration with <paramref name="read"/>, which adds every problem it finds; throws a
    /// <see cref="ConnectorException"/> listing them (one line <c>- path: problem</c> each) when there is any.
    /// </summary>
    public static T Parse<T>(string kind, JsonElement configuration, Func<JsonElement, List<string>, T?> read)
        where T : class
    {
        var problems = new List<string>();
        var settings = read(configuration, problems);
        if (problems.Count > 0 || settings is null)
        {
            throw new ConnectorException(
                FailureSide.Configuration,
                retryable: false,
                $"The {kind} configuration has {problems.Count} problem(s):{Environment.NewLine}- " + string.Join(Environment.NewLine + "- ", problems));
        }

        return settings;
    }

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
