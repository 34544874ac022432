namespace Hub.Core.Mapping;

/// <summary>
/// A mapping definition cannot be used. <see cref="Exception.Message"/> and <see cref="Errors"/> name every problem
/// found, so that the team that wrote the definition can fix it in one round.
/// </summary>
public sealed class MappingDefinitionException : Exception
{
    /// <summary>An invalid definition, no details.</summary>
    public MappingDefinitionException()
        : this("The mapping definition is invalid.")
    {
    }

    /// <summary>An invalid definition with one problem.</summary>
    public MappingDefinitionException(string message)
        : base(message)
    {
        Errors = [message];
    }

    /// <summary>An invalid definition with one problem and its cause.</summary>
    public MappingDefinitionException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>An invalid definition with all its problems.</summary>
    /// <param name="version">The definition's version, for the message; may be empty.</param>
    /// <param name="errors">Every problem, each naming where in the definition it is.</param>
    public MappingDefinitionException(string? version, IReadOnlyList<string> errors)
        : base(BuildMessage(version, errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem of the definition, each naming where it is (for example <c>Dossier.EventTime: …</c>).</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string BuildMessage(string? version, IReadOnlyList<string> errors)
    {
        var name = string.IsNullOrWhiteSpace(version) ? "The mapping definition" : $"Mapping definition '{version}'";
        var count = errors.Count == 1 ? "1 problem" : $"{errors.Count} problems";
        return $"{name} is invalid ({count}):{string.Concat(errors.Select(e => "\n- " + e))}";
    }
}
