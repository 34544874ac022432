namespace Hub.Tests.Webhook;

/// <summary>The code blocks of the json-webhook kind's README, so that tests run what the documentation shows.</summary>
public static class WebhookReadme
{
    /// <summary>The first fenced block of <paramref name="language"/> after the heading <paramref name="heading"/>.</summary>
    public static string Block(string heading, string language)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Connectors", "Hub.Connectors.BuiltIn", "Webhook", "README.md"));
        var section = text.IndexOf("\n## " + heading + "\n", StringComparison.Ordinal);
        Assert.True(section >= 0, $"The README has no section '{heading}'.");
        var start = text.IndexOf("```" + language + "\n", section, StringComparison.Ordinal) + language.Length + 4;
        var end = text.IndexOf("\n```", start, StringComparison.Ordinal);
        return text[start..end];
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Hub.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Hub.sln above {AppContext.BaseDirectory}.");
    }
}
